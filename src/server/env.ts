import type { Actor } from "../core/actor.js";
import type { PublicUser } from "../db/repositories/users-repository.js";

/** What the auth middleware leaves on every authenticated request. */
export interface AppEnv {
  Variables: { user: PublicUser; actor: Actor };
}

export const SESSION_COOKIE = "fineflow_session";
