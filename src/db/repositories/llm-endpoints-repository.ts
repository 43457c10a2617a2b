import { eq } from "drizzle-orm";
import type { Actor } from "../../core/actor.js";
import type { LlmEndpointInput } from "../../core/llm-endpoint.js";
import type { Db } from "../client.js";
import { userLlmEndpoints } from "../schema.js";

export type LlmEndpointRow = typeof userLlmEndpoints.$inferSelect;

/** Each user's own generation endpoint (at most one). */
export class LlmEndpointsRepository {
  constructor(private readonly db: Db) {}

  async find(actor: Actor): Promise<LlmEndpointRow | undefined> {
    const [row] = await this.db
      .select()
      .from(userLlmEndpoints)
      .where(eq(userLlmEndpoints.userId, actor.userId));
    return row;
  }

  async upsert(actor: Actor, values: LlmEndpointInput): Promise<LlmEndpointRow> {
    const now = new Date();
    const [row] = await this.db
      .insert(userLlmEndpoints)
      .values({ userId: actor.userId, ...values, updatedAt: now })
      .onConflictDoUpdate({ target: userLlmEndpoints.userId, set: { ...values, updatedAt: now } })
      .returning();
    if (!row) throw new Error("upsert returned no row");
    return row;
  }

  async delete(actor: Actor): Promise<boolean> {
    const rows = await this.db
      .delete(userLlmEndpoints)
      .where(eq(userLlmEndpoints.userId, actor.userId))
      .returning({ userId: userLlmEndpoints.userId });
    return rows.length > 0;
  }
}
