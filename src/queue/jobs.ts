import type { AuthService } from "../services/auth-service.js";
import type { JobDefinition } from "./queue.js";

/** Every kind of background work; each handler is a line that calls a service. */
export function createJobs(services: { auth: AuthService }) {
  const purgeExpiredSessions: JobDefinition = {
    name: "maintenance.purge-expired-sessions",
    cron: "17 * * * *",
    handle: async () => ({ purged: await services.auth.purgeExpired() }),
  };
  return { purgeExpiredSessions, all: [purgeExpiredSessions] };
}
export type Jobs = ReturnType<typeof createJobs>;
