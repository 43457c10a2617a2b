import type { Config } from "./config.js";
import { extractiveGenerator } from "./core/generation/extractive-generator.js";
import { TRAINING_DEFAULTS, type TrainingSettings } from "./core/training/lifecycle.js";
import { type Database, openPglite, openPostgres } from "./db/client.js";
import { acquireDataDirLock, type DataDirLock } from "./db/data-dir-lock.js";
import { vacuumWhereDue } from "./db/maintenance.js";
import { ApiKeysRepository } from "./db/repositories/api-keys-repository.js";
import { ChunksRepository } from "./db/repositories/chunks-repository.js";
import { DatasetsRepository } from "./db/repositories/datasets-repository.js";
import { DocumentsRepository } from "./db/repositories/documents-repository.js";
import { LlmEndpointsRepository } from "./db/repositories/llm-endpoints-repository.js";
import { ProjectsRepository } from "./db/repositories/projects-repository.js";
import { TrainingRepository } from "./db/repositories/training-repository.js";
import { UsersRepository } from "./db/repositories/users-repository.js";
import type { Logger } from "./logger.js";
import { once } from "./once.js";
import type { LlmEndpoint } from "./providers/llm/openai-compatible-generator.js";
import { createJobs } from "./queue/jobs.js";
import { Queue } from "./queue/queue.js";
import { resolveEncryptionSecret } from "./secret-file.js";
import { AnalysisThread } from "./services/analysis-thread.js";
import { AuthService } from "./services/auth-service.js";
import { DatasetFileService } from "./services/dataset-file-service.js";
import { DocumentService } from "./services/document-service.js";
import { GenerationService } from "./services/generation-service.js";
import { KeyService } from "./services/key-service.js";
import { LlmEndpointService } from "./services/llm-endpoint-service.js";
import { PairService } from "./services/pair-service.js";
import { ProjectService } from "./services/project-service.js";
import { TrainingService } from "./services/training-service.js";
import { TrainingUpdates } from "./services/training-updates.js";

export interface ServiceSettings {
  maxDocumentBytes: number;
  /** The heap limit of the thread documents are analysed on. */
  analysisMemoryMb?: number;
  /** The chat endpoint dataset generation uses when the user picks (or defaults to) `llm`. */
  llm?: LlmEndpoint;
  /** Encrypts users' API keys at rest (see secret-file.ts for where it comes from). */
  encryptionSecret: string;
  /** Polling of training jobs, and where the providers' APIs are (their public ones by default). */
  training?: Partial<TrainingSettings> & {
    openaiBaseUrl?: string;
    togetherBaseUrl?: string;
    /** The wall clock training decisions read (budget month, tracking limit, OpenAI's cut-off); tests set it. */
    now?: () => Date;
  };
}

export const settingsFrom = (config: Config, encryptionSecret: string): ServiceSettings => ({
  maxDocumentBytes: Math.round(config.FINEFLOW_MAX_DOCUMENT_MB * 1024 * 1024),
  analysisMemoryMb: config.FINEFLOW_ANALYSIS_MEMORY_MB,
  encryptionSecret,
  training: {
    pollIntervalSeconds: config.FINEFLOW_TRAINING_POLL_SECONDS,
    maxTrackingHours: config.FINEFLOW_TRAINING_MAX_TRACKING_HOURS,
    openaiBaseUrl: config.OPENAI_BASE_URL,
    togetherBaseUrl: config.TOGETHER_BASE_URL,
  },
  llm:
    config.FINEFLOW_LLM_BASE_URL && config.FINEFLOW_LLM_MODEL
      ? {
          baseURL: config.FINEFLOW_LLM_BASE_URL,
          model: config.FINEFLOW_LLM_MODEL,
          apiKey: config.FINEFLOW_LLM_API_KEY,
        }
      : undefined,
});

/** The services and background jobs, wired to one database and queue: what every transport is given. */
export function createServices(database: Database, queue: Queue, settings: ServiceSettings, logger: Logger) {
  const auth = new AuthService(new UsersRepository(database.db));
  const projects = new ProjectService(new ProjectsRepository(database.db));
  const keys = new KeyService(new ApiKeysRepository(database.db), settings.encryptionSecret);
  const llmEndpoints = new LlmEndpointService({
    endpoints: new LlmEndpointsRepository(database.db),
    keys,
    server: settings.llm,
  });
  const analysis = new AnalysisThread({ maxHeapMb: settings.analysisMemoryMb });
  const documents: DocumentService = new DocumentService({
    documents: new DocumentsRepository(database.db),
    chunks: new ChunksRepository(database.db),
    projects,
    enqueue: async (data) => {
      await queue.send(jobs.processDocument, data);
    },
    analyze: (type, bytes, chunking) => analysis.analyze(type, bytes, chunking),
    maxDocumentBytes: settings.maxDocumentBytes,
    logger,
  });
  const datasets = new DatasetsRepository(database.db);
  const generation: GenerationService = new GenerationService({
    datasets,
    documents: new DocumentsRepository(database.db),
    projects,
    generators: { extractive: extractiveGenerator, llm: llmEndpoints },
    enqueueChunk: async (data, delaySeconds) => {
      await queue.send(jobs.generateChunk, data, delaySeconds);
    },
    enqueueChunks: (data) => queue.sendAll(jobs.generateChunk, data),
    enqueueFinish: async (data) => {
      await queue.send(jobs.finishDataset, data);
    },
    logger,
  });
  const files = new DatasetFileService(datasets, projects);
  const training: TrainingService = new TrainingService({
    jobs: new TrainingRepository(database.db),
    datasets,
    projects,
    files,
    keys,
    providers: {
      openai: once(async () =>
        (await import("./providers/finetune/openai.js")).createOpenAiTrainingProvider({
          baseURL: settings.training?.openaiBaseUrl,
        }),
      ),
      together: once(async () =>
        (await import("./providers/finetune/together.js")).createTogetherTrainingProvider({
          baseURL: settings.training?.togetherBaseUrl,
        }),
      ),
    },
    schedule: async (step, delaySeconds) => {
      await queue.send(jobs.trackTraining, step, delaySeconds);
    },
    settings: { ...TRAINING_DEFAULTS, ...settings.training },
    now: settings.training?.now,
    logger,
  });
  const updates = new TrainingUpdates(database.listen, logger);
  const tidyDatabase = database.kind === "pglite" ? () => vacuumWhereDue(database) : undefined;
  const jobs = createJobs({ auth, documents, generation, training }, queue, tidyDatabase);
  const pairs = new PairService(datasets);
  return {
    auth,
    projects,
    documents,
    analysis,
    generation,
    files,
    pairs,
    jobs,
    tidyDatabase,
    keys,
    llmEndpoints,
    training,
    updates,
  };
}
export type Services = ReturnType<typeof createServices>;

/** An open database with its queue and services; `close` releases everything, the embedded lock included. */
export interface Runtime {
  database: Database;
  settings: ServiceSettings;
  queue: Queue;
  services: Services;
  /** Held while an embedded database is open; absent on PostgreSQL. */
  lock?: DataDirLock;
  /** Runs the background jobs in this process too. */
  startWorkers(): Promise<void>;
  close(): Promise<void>;
}

/** Opens PostgreSQL when `DATABASE_URL` is set, else the embedded PGlite under the data directory's lock. */
export async function openRuntime(config: Config, command: string, logger: Logger): Promise<Runtime> {
  const lock = config.DATABASE_URL ? undefined : acquireDataDirLock(config.FINEFLOW_DATA_DIR, command);
  let database: Database | undefined;
  try {
    // Before the database: server mode without a secret stops here, with a message naming the variable.
    const settings = settingsFrom(config, resolveEncryptionSecret(config));
    database = config.DATABASE_URL
      ? await openPostgres(config.DATABASE_URL)
      : await openPglite(`${config.FINEFLOW_DATA_DIR}/pgdata`);
    const queue = new Queue(database, logger, { concurrency: config.FINEFLOW_QUEUE_CONCURRENCY });
    const services = createServices(database, queue, settings, logger);
    const opened = database;
    return {
      database,
      settings,
      queue,
      services,
      lock,
      async startWorkers() {
        if (opened.kind === "pglite") {
          await services.generation.releaseClaims();
          await queue.retryInterrupted();
        }
        await queue.work(services.jobs.all);
        await services.training.recover();
      },
      async close() {
        await services.updates.close();
        await queue.stop();
        await services.analysis.close();
        // A command is often the whole life of the embedded database's process, shorter than the minute
        // between the queue's tidy-ups: what it deleted or replaced is tidied before the next one.
        await services
          .tidyDatabase?.()
          .catch((error: Error) =>
            logger.warn("Tidying the embedded database failed", { error: error.message }),
          );
        await opened.close();
        lock?.release();
      },
    };
  } catch (error) {
    await database?.close();
    lock?.release();
    throw error;
  }
}
