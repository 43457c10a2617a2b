import { and, eq, gt, lt } from "drizzle-orm";
import type { Actor } from "../../core/actor.js";
import { isUuid } from "../../core/ids.js";
import type { Db } from "../client.js";
import { apiTokens, loginLinks, sessions, users } from "../schema.js";

export type UserRow = typeof users.$inferSelect;
export type PublicUser = Pick<UserRow, "id" | "email" | "isLocalOwner" | "createdAt">;

const publicUser = {
  id: users.id,
  email: users.email,
  isLocalOwner: users.isLocalOwner,
  createdAt: users.createdAt,
};
const tokenSummary = {
  id: apiTokens.id,
  name: apiTokens.name,
  createdAt: apiTokens.createdAt,
  lastUsedAt: apiTokens.lastUsedAt,
};

/** Users and their credentials. Secrets arrive here already hashed. */
export class UsersRepository {
  constructor(private readonly db: Db) {}

  async insertUser(values: { email: string; passwordHash: string | null; isLocalOwner?: boolean }) {
    const [row] = await this.db.insert(users).values(values).returning(publicUser);
    return row as PublicUser;
  }

  async findByEmail(email: string): Promise<PublicUser | undefined> {
    const [row] = await this.db.select(publicUser).from(users).where(eq(users.email, email));
    return row;
  }

  /** The user of `email` and their password's hash, apart: the hash is for checking a sign-in only. */
  async findSignIn(email: string): Promise<{ user: PublicUser; passwordHash: string | null } | undefined> {
    const [row] = await this.db
      .select({ user: publicUser, passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.email, email));
    return row;
  }

  async findLocalOwner(): Promise<PublicUser | undefined> {
    const [row] = await this.db.select(publicUser).from(users).where(eq(users.isLocalOwner, true));
    return row;
  }

  async findById(id: string): Promise<PublicUser | undefined> {
    const [row] = await this.db.select(publicUser).from(users).where(eq(users.id, id));
    return row;
  }

  async insertSession(userId: string, tokenHash: string, expiresAt: Date) {
    await this.db.insert(sessions).values({ userId, tokenHash, expiresAt });
  }

  async findSessionUser(tokenHash: string, now: Date): Promise<PublicUser | undefined> {
    const [row] = await this.db
      .select(publicUser)
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, now)));
    return row;
  }

  async deleteSession(tokenHash: string) {
    await this.db.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
  }

  async insertLoginLink(userId: string, tokenHash: string, expiresAt: Date) {
    await this.db.insert(loginLinks).values({ userId, tokenHash, expiresAt });
  }

  /** Deletes the link as it is read, so that it works once. */
  async consumeLoginLink(tokenHash: string, now: Date): Promise<string | undefined> {
    const [row] = await this.db
      .delete(loginLinks)
      .where(eq(loginLinks.tokenHash, tokenHash))
      .returning({ userId: loginLinks.userId, expiresAt: loginLinks.expiresAt });
    return row && row.expiresAt > now ? row.userId : undefined;
  }

  async insertApiToken(actor: Actor, name: string, tokenHash: string) {
    const [row] = await this.db
      .insert(apiTokens)
      .values({ userId: actor.userId, name, tokenHash })
      .returning(tokenSummary);
    if (!row) throw new Error("insert returned no row");
    return row;
  }

  async findApiTokenUser(tokenHash: string, now: Date): Promise<PublicUser | undefined> {
    const [row] = await this.db
      .update(apiTokens)
      .set({ lastUsedAt: now })
      .from(users)
      .where(and(eq(apiTokens.tokenHash, tokenHash), eq(users.id, apiTokens.userId)))
      .returning(publicUser);
    return row;
  }

  listApiTokens(actor: Actor) {
    return this.db.select(tokenSummary).from(apiTokens).where(eq(apiTokens.userId, actor.userId));
  }

  async deleteApiToken(actor: Actor, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db
      .delete(apiTokens)
      .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, actor.userId)))
      .returning({ id: apiTokens.id });
    return rows.length > 0;
  }

  /** Removes sessions and sign-in links past their expiry; returns how many went. */
  async purgeExpired(now: Date): Promise<number> {
    const gone = await this.db
      .delete(sessions)
      .where(lt(sessions.expiresAt, now))
      .returning({ id: sessions.tokenHash });
    const links = await this.db
      .delete(loginLinks)
      .where(lt(loginLinks.expiresAt, now))
      .returning({ id: loginLinks.tokenHash });
    return gone.length + links.length;
  }
}
