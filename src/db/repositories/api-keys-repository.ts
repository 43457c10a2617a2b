import { and, asc, eq, sql } from "drizzle-orm";
import type { Actor } from "../../core/actor.js";
import type { KeyProvider } from "../../core/statuses.js";
import type { Db } from "../client.js";
import { userApiKeys } from "../schema.js";

export type ApiKeyRow = typeof userApiKeys.$inferSelect;
/** A key as listed: everything but the ciphertext, which only `findSealed` reads. */
export type ApiKeySummary = Omit<ApiKeyRow, "keyEncrypted">;

const summary = {
  userId: userApiKeys.userId,
  provider: userApiKeys.provider,
  keyLast4: userApiKeys.keyLast4,
  createdAt: userApiKeys.createdAt,
  updatedAt: userApiKeys.updatedAt,
};

/** Users' provider keys, as ciphertext: the values arrive here sealed and leave sealed. */
export class ApiKeysRepository {
  constructor(private readonly db: Db) {}

  private owned(actor: Actor, provider: KeyProvider) {
    return and(eq(userApiKeys.userId, actor.userId), eq(userApiKeys.provider, provider));
  }

  list(actor: Actor): Promise<ApiKeySummary[]> {
    return this.db
      .select(summary)
      .from(userApiKeys)
      .where(eq(userApiKeys.userId, actor.userId))
      .orderBy(asc(userApiKeys.provider));
  }

  async findSealed(actor: Actor, provider: KeyProvider): Promise<string | undefined> {
    const [row] = await this.db
      .select({ keyEncrypted: userApiKeys.keyEncrypted })
      .from(userApiKeys)
      .where(this.owned(actor, provider));
    return row?.keyEncrypted;
  }

  async upsert(
    actor: Actor,
    provider: KeyProvider,
    values: { keyEncrypted: string; keyLast4: string },
  ): Promise<ApiKeySummary> {
    const now = new Date();
    const [row] = await this.db
      .insert(userApiKeys)
      .values({ userId: actor.userId, provider, ...values, updatedAt: now })
      .onConflictDoUpdate({
        target: [userApiKeys.userId, userApiKeys.provider],
        set: { ...values, updatedAt: now },
      })
      .returning(summary);
    if (!row) throw new Error("upsert returned no row");
    return row;
  }

  async delete(actor: Actor, provider: KeyProvider): Promise<boolean> {
    const rows = await this.db
      .delete(userApiKeys)
      .where(this.owned(actor, provider))
      .returning({ provider: userApiKeys.provider });
    return rows.length > 0;
  }

  // Operator work across all users: rotation of the encryption secret. Never reachable from a request.

  /** How many keys are sealed under the key id that starts `prefix` (`v1.<kid>.`). */
  async countSealedUnder(prefix: string): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(userApiKeys)
      .where(sql`starts_with(${userApiKeys.keyEncrypted}, ${prefix})`);
    return row?.n ?? 0;
  }

  /**
   * Re-seals up to `limit` keys not yet under `prefix`, in one transaction, and returns how many: a
   * crash loses at most the batch in flight, which the next run does again. `updatedAt` is kept: it says
   * when the user set the key.
   */
  reseal(prefix: string, limit: number, reseal: (row: ApiKeyRow) => string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(userApiKeys)
        .where(sql`NOT starts_with(${userApiKeys.keyEncrypted}, ${prefix})`)
        .orderBy(asc(userApiKeys.userId), asc(userApiKeys.provider))
        .limit(limit)
        .for("update");
      for (const row of rows) {
        await tx
          .update(userApiKeys)
          .set({ keyEncrypted: reseal(row) })
          .where(and(eq(userApiKeys.userId, row.userId), eq(userApiKeys.provider, row.provider)));
      }
      return rows.length;
    });
  }
}
