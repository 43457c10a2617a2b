import type { AuthService } from "../services/auth-service.js";
import type { DocumentService } from "../services/document-service.js";
import type { JobDefinition } from "./queue.js";

/** Every kind of background work; each handler is a line that calls a service. */
export function createJobs(services: { auth: AuthService; documents: DocumentService }) {
  const purgeExpiredSessions: JobDefinition = {
    name: "maintenance.purge-expired-sessions",
    cron: "17 * * * *",
    handle: async () => ({ purged: await services.auth.purgeExpired() }),
  };
  const processDocument: JobDefinition<{ userId: string; documentId: string }> = {
    name: "documents.process",
    handle: ({ userId, documentId }) => services.documents.process({ userId }, documentId),
  };
  return {
    purgeExpiredSessions,
    processDocument,
    all: [purgeExpiredSessions, processDocument] as JobDefinition[],
  };
}
export type Jobs = ReturnType<typeof createJobs>;
