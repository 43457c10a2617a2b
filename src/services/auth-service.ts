import { createHash, randomBytes } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";
import type { Actor } from "../core/actor.js";
import { ConflictError, NotFoundError, UnauthorizedError } from "../core/errors.js";
import { createTokenSchema, loginSchema, newUserSchema } from "../core/inputs.js";
import { isUniqueViolation } from "../db/errors.js";
import type { PublicUser, UsersRepository } from "../db/repositories/users-repository.js";
import { once } from "../once.js";
import { parseInput } from "./parse-input.js";

const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;
const LOGIN_LINK_TTL_MS = 15 * 60 * 1000;
const LOCAL_OWNER_EMAIL = "owner@localhost";
/** A recognisable prefix lets secret scanners and people tell a FineFlow token from other secrets. */
const API_TOKEN_PREFIX = "ff_";

/** Session, link and API tokens carry 256 random bits, so a fast hash is enough to store them safely. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

const newToken = () => randomBytes(32).toString("base64url");

/** The hash of a random password, made once, that no sign-in can match. */
const unmatchableHash = once(() => hash(newToken()));

export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async createUser(input: { email: unknown; password: unknown }): Promise<PublicUser> {
    const { email, password } = parseInput(newUserSchema, input);
    try {
      return await this.users.insertUser({ email, passwordHash: await hash(password) });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`A user with email ${email} already exists.`);
      throw error;
    }
  }

  /** The embedded database's single owner, created on first use. */
  async ensureLocalOwner(): Promise<PublicUser> {
    const existing = await this.users.findLocalOwner();
    if (existing) return existing;
    return this.users.insertUser({ email: LOCAL_OWNER_EMAIL, passwordHash: null, isLocalOwner: true });
  }

  async findUserByEmail(email: string): Promise<PublicUser> {
    const user = await this.users.findByEmail(email.toLowerCase());
    if (!user) throw new NotFoundError("User", email);
    return user;
  }

  /** Returns a new session token; the same message for an unknown email and a wrong password. */
  async login(input: unknown): Promise<{ user: PublicUser; sessionToken: string }> {
    const { email, password } = parseInput(loginSchema, input);
    const found = await this.users.findSignIn(email);
    // An unknown email (or the local owner's, which has no password) is checked against a hash all the
    // same: answered at once, it told apart the emails that have an account.
    const valid = await verify(found?.passwordHash ?? (await unmatchableHash()), password);
    if (!found?.passwordHash || !valid) throw new UnauthorizedError("Email or password is wrong.");
    return { user: found.user, sessionToken: await this.createSession(found.user.id) };
  }

  async createSession(userId: string): Promise<string> {
    const token = newToken();
    await this.users.insertSession(userId, hashToken(token), new Date(this.now().getTime() + SESSION_TTL_MS));
    return token;
  }

  async userForSession(token: string): Promise<PublicUser | undefined> {
    return this.users.findSessionUser(hashToken(token), this.now());
  }

  async logout(sessionToken: string): Promise<void> {
    await this.users.deleteSession(hashToken(sessionToken));
  }

  /** A one-time sign-in link for the acting user only: there is no way to ask for another user's. */
  async createLoginLink(actor: Actor): Promise<{ token: string; expiresAt: Date }> {
    const token = newToken();
    const expiresAt = new Date(this.now().getTime() + LOGIN_LINK_TTL_MS);
    await this.users.insertLoginLink(actor.userId, hashToken(token), expiresAt);
    return { token, expiresAt };
  }

  /** Trades a one-time link token for a session token; undefined for a used, expired or unknown link. */
  async redeemLoginLink(token: string): Promise<string | undefined> {
    const userId = await this.users.consumeLoginLink(hashToken(token), this.now());
    return userId ? this.createSession(userId) : undefined;
  }

  async createApiToken(actor: Actor, input: unknown) {
    const token = API_TOKEN_PREFIX + newToken();
    const { name } = parseInput(createTokenSchema, input);
    const row = await this.users.insertApiToken(actor, name, hashToken(token));
    return { ...row, token };
  }

  async userForApiToken(token: string): Promise<PublicUser | undefined> {
    if (!token.startsWith(API_TOKEN_PREFIX)) return undefined;
    return this.users.findApiTokenUser(hashToken(token), this.now());
  }

  listApiTokens(actor: Actor) {
    return this.users.listApiTokens(actor);
  }

  async revokeApiToken(actor: Actor, id: string): Promise<void> {
    if (!(await this.users.deleteApiToken(actor, id))) throw new NotFoundError("API token", id);
  }

  purgeExpired(): Promise<number> {
    return this.users.purgeExpired(this.now());
  }
}
