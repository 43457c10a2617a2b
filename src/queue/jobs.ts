import type { Tidied } from "../db/maintenance.js";
import type { AuthService } from "../services/auth-service.js";
import type { DocumentService } from "../services/document-service.js";
import type { GenerationService } from "../services/generation-service.js";
import type { TrackStep, TrainingService } from "../services/training-service.js";
import type { JobDefinition, Queue } from "./queue.js";

/** Every kind of background work; each handler is a line that calls a service (or the queue itself). */
export function createJobs(
  services: {
    auth: AuthService;
    documents: DocumentService;
    generation: GenerationService;
    training: TrainingService;
  },
  queue: Pick<Queue, "retryOrphaned">,
  /** On the embedded database only: what autovacuum does on a PostgreSQL server (`vacuumWhereDue`). */
  tidyDatabase?: () => Promise<Tidied>,
) {
  const purgeExpiredSessions: JobDefinition = {
    name: "maintenance.purge-expired-sessions",
    cron: "17 * * * *",
    concurrency: 1,
    handle: async () => ({ purged: await services.auth.purgeExpired() }),
  };
  const processDocument: JobDefinition<{ userId: string; documentId: string }> = {
    name: "documents.process",
    // Documents are analysed one at a time on their own thread (AnalysisThread): running more at once only
    // holds more of them in memory. Two let one document be analysed while the other is stored.
    concurrency: 2,
    backToBack: true,
    // pg-boss's default 15 minutes would fail a document that takes longer, however far along (a 9,000-page
    // PDF took 74–106 s here, and the size limit allows several times that); a process that dies is noticed
    // by its heartbeats instead.
    expireInSeconds: 2 * 60 * 60,
    handle: ({ userId, documentId }) => services.documents.process({ userId }, documentId),
  };
  const generateChunk: JobDefinition<{ userId: string; datasetId: string; chunkId: string }> = {
    name: "generation.chunk",
    // Not back to back: with every worker fetching again at once, more requests were in flight when the
    // endpoint's rate limit ran out, and generation ran at 0.78–0.84 of the allowed rate instead of 0.86–0.89.
    handle: ({ userId, datasetId, chunkId }) =>
      services.generation.generateChunk({ userId }, datasetId, chunkId),
  };
  const finishDataset: JobDefinition<{ userId: string; datasetId: string }> = {
    name: "generation.finish",
    concurrency: 1,
    handle: ({ datasetId }) => services.generation.finish(datasetId),
  };
  const trackTraining: JobDefinition<TrackStep> = {
    name: "training.track",
    // Each step is one quick call to the provider: two keep up with many jobs.
    concurrency: 2,
    handle: (step) => services.training.track(step),
  };
  const trainingWatchdog: JobDefinition = {
    name: "training.watchdog",
    cron: "*/5 * * * *",
    concurrency: 1,
    // Well past any poll interval and provider retry: only a chain that broke is that quiet.
    handle: async () => ({ recovered: await services.training.recover(15 * 60) }),
  };
  const retryOrphaned: JobDefinition = {
    name: "queue.retry-orphaned",
    cron: "* * * * *",
    concurrency: 1,
    handle: async () => ({ retried: await queue.retryOrphaned() }),
  };
  const tidy: JobDefinition | undefined = tidyDatabase && {
    name: "maintenance.vacuum-embedded",
    // As often as autovacuum looks on a server (autovacuum_naptime): reading the counts costs ~20 ms.
    cron: "* * * * *",
    concurrency: 1,
    handle: tidyDatabase,
  };
  return {
    trackTraining,
    trainingWatchdog,
    purgeExpiredSessions,
    processDocument,
    generateChunk,
    finishDataset,
    all: [
      purgeExpiredSessions,
      processDocument,
      generateChunk,
      finishDataset,
      trackTraining,
      trainingWatchdog,
      retryOrphaned,
      ...(tidy ? [tidy] : []),
    ] as JobDefinition[],
  };
}
export type Jobs = ReturnType<typeof createJobs>;
