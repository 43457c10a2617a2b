import type { AuthService } from "../services/auth-service.js";
import type { DocumentService } from "../services/document-service.js";
import type { GenerationService } from "../services/generation-service.js";
import type { JobDefinition } from "./queue.js";

/** Every kind of background work; each handler is a line that calls a service. */
export function createJobs(services: {
  auth: AuthService;
  documents: DocumentService;
  generation: GenerationService;
}) {
  const purgeExpiredSessions: JobDefinition = {
    name: "maintenance.purge-expired-sessions",
    cron: "17 * * * *",
    handle: async () => ({ purged: await services.auth.purgeExpired() }),
  };
  const processDocument: JobDefinition<{ userId: string; documentId: string }> = {
    name: "documents.process",
    handle: ({ userId, documentId }) => services.documents.process({ userId }, documentId),
  };
  const generateChunk: JobDefinition<{ userId: string; datasetId: string; chunkId: string }> = {
    name: "generation.chunk",
    handle: ({ userId, datasetId, chunkId }) =>
      services.generation.generateChunk({ userId }, datasetId, chunkId),
  };
  const finishDataset: JobDefinition<{ userId: string; datasetId: string }> = {
    name: "generation.finish",
    handle: ({ datasetId }) => services.generation.finish(datasetId),
  };
  return {
    purgeExpiredSessions,
    processDocument,
    generateChunk,
    finishDataset,
    all: [purgeExpiredSessions, processDocument, generateChunk, finishDataset] as JobDefinition[],
  };
}
export type Jobs = ReturnType<typeof createJobs>;
