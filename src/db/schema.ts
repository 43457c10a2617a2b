import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  customType,
  foreignKey,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import { DEFAULT_CHUNK_OPTIONS } from "../core/chunk-blocks.js";
import type { PairMessage, PairMode } from "../core/generation/types.js";
import { DEFAULT_NEAR_DUPLICATE_THRESHOLD } from "../core/near-duplicates.js";
import {
  BUDGET_ENFORCEMENTS,
  DATASET_FORMATS,
  DATASET_STATUSES,
  DOCUMENT_STATUSES,
  GENERATION_MODES,
  GENERATION_TASK_STATUSES,
  KEY_PROVIDERS,
  PAIR_STATUSES,
  PROVIDERS,
  SPEND_KINDS,
  TRAINING_JOB_STATUSES,
} from "../core/statuses.js";

/**
 * The whole domain's tables, so later features add behaviour rather than churn. Every row a user owns
 * carries `user_id`, which every repository query filters on. Names follow the seed where it gives them.
 */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => "bytea" });

const id = () => uuid("id").primaryKey().defaultRandom();
const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();
const owner = () =>
  uuid("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" });
/** Money is numeric, never float; ten decimals, because one generation call can cost a hundredth of a cent. */
const usd = (name: string) => numeric(name, { precision: 22, scale: 10, mode: "number" });

export const users = pgTable("users", {
  id: id(),
  email: text("email").notNull().unique(),
  /** argon2id; null for the embedded database's local owner, who signs in through one-time links. */
  passwordHash: text("password_hash"),
  isLocalOwner: boolean("is_local_owner").notNull().default(false),
  createdAt: createdAt(),
});

/** Browser sessions (HTTP-only cookie). Only the SHA-256 of the token is stored. */
export const sessions = pgTable(
  "sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: owner(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("sessions_user_idx").on(t.userId), index("sessions_expires_idx").on(t.expiresAt)],
);

/** One-time sign-in links, printed by `fineflow serve` for the local owner. */
export const loginLinks = pgTable("login_links", {
  tokenHash: text("token_hash").primaryKey(),
  userId: owner(),
  createdAt: createdAt(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
});

/** Personal API tokens for the API and the CLI. Only the SHA-256 of the token is stored. */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: id(),
    userId: owner(),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  },
  (t) => [index("api_tokens_user_idx").on(t.userId)],
);

/** The constraint that keeps a project's chunk overlap under half its target. */
export const PROJECT_OVERLAP_CHECK = "projects_chunk_overlap_check";

export const projects = pgTable(
  "projects",
  {
    id: id(),
    userId: owner(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    monthlyBudgetUsd: usd("monthly_budget_usd"),
    budgetEnforcement: text("budget_enforcement", { enum: BUDGET_ENFORCEMENTS }).notNull().default("warn"),
    chunkTargetTokens: integer("chunk_target_tokens").notNull().default(DEFAULT_CHUNK_OPTIONS.targetTokens),
    chunkOverlapTokens: integer("chunk_overlap_tokens")
      .notNull()
      .default(DEFAULT_CHUNK_OPTIONS.overlapTokens),
    duplicateThreshold: real("duplicate_threshold").notNull().default(DEFAULT_NEAR_DUPLICATE_THRESHOLD),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("projects_user_name_key").on(t.userId, t.name),
    // core's `overlapIssue` says it to the user; this holds it against two changes at once, each valid alone.
    check(PROJECT_OVERLAP_CHECK, sql`${t.chunkOverlapTokens} * 2 < ${t.chunkTargetTokens}`),
  ],
);

export const documents = pgTable(
  "documents",
  {
    id: id(),
    userId: owner(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    type: text("type").notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    contentHash: text("content_hash").notNull(),
    status: text("status", { enum: DOCUMENT_STATUSES }).notNull().default("pending"),
    error: text("error"),
    chunkCount: integer("chunk_count").notNull().default(0),
    /**
     * Of its chunks, how many are duplicates and how many flagged for injection: kept with the document,
     * as `chunkCount` is, so that listing documents reads no chunk (counting them took ~100 ms a listing
     * at 40k chunks, on every refresh while documents are processed). Set as the chunks are stored; the
     * duplicate count falls when a deletion promotes a copy.
     */
    duplicateChunks: integer("duplicate_chunks").notNull().default(0),
    flaggedChunks: integer("flagged_chunks").notNull().default(0),
    /** How many times processing has started since the upload; reset when a failed one is sent again. */
    processingAttempts: integer("processing_attempts").notNull().default(0),
    /**
     * The project's chunking when the document was uploaded, which it is processed with: the same file sent
     * again after the project's chunking changed is a new version, chunked anew.
     */
    chunkTargetTokens: integer("chunk_target_tokens").notNull(),
    chunkOverlapTokens: integer("chunk_overlap_tokens").notNull(),
    duplicateThreshold: real("duplicate_threshold").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // A file is its name and its content, processed one way: the same bytes under another name are a
    // document of their own, and under the same name but other chunking a new version. Also how the earlier
    // versions a new one replaces are found, by name, as each document is stored.
    unique("documents_project_name_hash_chunking_key").on(
      t.projectId,
      t.name,
      t.contentHash,
      t.chunkTargetTokens,
      t.chunkOverlapTokens,
      t.duplicateThreshold,
    ),
    // What the chunks' foreign key points at.
    unique("documents_id_project_user_key").on(t.id, t.projectId, t.userId),
    index("documents_user_idx").on(t.userId),
  ],
);

/**
 * An upload's bytes until it is processed, apart from `documents` so that listing documents never reads
 * them. In parts of `DOCUMENT_FILE_PART_BYTES`: PGlite copies each statement's parameters and results into
 * its WebAssembly memory, which grows to fit and never shrinks.
 */
export const documentFiles = pgTable(
  "document_files",
  {
    documentId: uuid("document_id")
      .notNull()
      .references(() => documents.id, { onDelete: "cascade" }),
    part: integer("part").notNull().default(0),
    bytes: bytea("bytes").notNull(),
  },
  (t) => [primaryKey({ columns: [t.documentId, t.part] })],
);

export const chunks = pgTable(
  "chunks",
  {
    id: id(),
    // The three belong together: one foreign key to the document (below), which costs one check per
    // chunk instead of three and keeps a chunk in its document's project.
    userId: uuid("user_id").notNull(),
    projectId: uuid("project_id").notNull(),
    documentId: uuid("document_id").notNull(),
    chunkIndex: integer("chunk_index").notNull(),
    text: text("text").notNull(),
    headingPath: jsonb("heading_path").$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    tokenCount: integer("token_count").notNull(),
    pageStart: integer("page_start"),
    pageEnd: integer("page_end"),
    qualityScore: real("quality_score").notNull(),
    qualityBreakdown: jsonb("quality_breakdown").$type<Record<string, number>>().notNull(),
    contentHash: text("content_hash").notNull(),
    minhash: bytea("minhash"),
    /** The `MINHASH_SCHEME_VERSION` that made `minhash`: an older one is recomputed before it is compared. */
    minhashScheme: smallint("minhash_scheme").notNull().default(1),
    isDuplicate: boolean("is_duplicate").notNull().default(false),
    duplicateOf: uuid("duplicate_of"),
    duplicateSimilarity: real("duplicate_similarity"),
    injectionFlagged: boolean("injection_flagged").notNull().default(false),
    injectionScore: real("injection_score").notNull().default(0),
    injectionReasons: jsonb("injection_reasons")
      .$type<{ rule: string; excerpt: string }[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    createdAt: createdAt(),
    /**
     * When the chunk became a kept (non-duplicate) chunk of its project, in the order those changes
     * committed (they happen under the project's lock): a process's in-memory index of kept chunks
     * catches up by reading past the last `seq` it holds (see `ChunksRepository`).
     */
    seq: bigserial("seq", { mode: "number" }).notNull(),
  },
  (t) => [
    unique("chunks_document_index_key").on(t.documentId, t.chunkIndex),
    foreignKey({
      name: "chunks_document_fk",
      columns: [t.documentId, t.projectId, t.userId],
      foreignColumns: [documents.id, documents.projectId, documents.userId],
    }).onDelete("cascade"),
    index("chunks_project_quality_idx").on(t.projectId, t.qualityScore),
    index("chunks_project_seq_idx").on(t.projectId, t.seq),
  ],
);

export const trainingDatasets = pgTable(
  "training_datasets",
  {
    id: id(),
    userId: owner(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    format: text("format", { enum: DATASET_FORMATS }).notNull(),
    mode: text("mode", { enum: GENERATION_MODES }).notNull(),
    systemPrompt: text("system_prompt"),
    status: text("status", { enum: DATASET_STATUSES }).notNull().default("generating"),
    /** The generation request as given (generator, minQuality, pairsPerChunk, documentIds …). */
    generationOptions: jsonb("generation_options").$type<Record<string, unknown>>().notNull().default({}),
    error: text("error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [unique("training_datasets_project_name_key").on(t.projectId, t.name)],
);

/**
 * One row per (dataset, chunk) to generate from: the unit of resumable work, so that a restarted run
 * neither repeats nor loses a chunk.
 */
export const generationTasks = pgTable(
  "generation_tasks",
  {
    datasetId: uuid("dataset_id")
      .notNull()
      .references(() => trainingDatasets.id, { onDelete: "cascade" }),
    chunkId: uuid("chunk_id")
      .notNull()
      .references(() => chunks.id, { onDelete: "cascade" }),
    status: text("status", { enum: GENERATION_TASK_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    reason: text("reason"),
    /** What generating from this chunk cost, as the endpoint reported it. */
    promptTokens: integer("prompt_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull().default(0),
    /**
     * Until when one worker holds this chunk: a second delivery of its job (a resume, a queue retry) waits
     * instead of paying the LLM for the same chunk again.
     */
    claimedUntil: timestamp("claimed_until", { withTimezone: true }),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.datasetId, t.chunkId] }),
    index("generation_tasks_status_idx").on(t.datasetId, t.status),
  ],
);

export const trainingPairs = pgTable(
  "training_pairs",
  {
    id: id(),
    /** Insertion order: a dataset's file lists its pairs in this order, as generated or imported. */
    seq: bigserial("seq", { mode: "number" }).notNull(),
    userId: owner(),
    datasetId: uuid("dataset_id")
      .notNull()
      .references(() => trainingDatasets.id, { onDelete: "cascade" }),
    /** A list of messages, so multi-turn conversations fit as well as single question-answer pairs. */
    messages: jsonb("messages").$type<PairMessage[]>().notNull(),
    qualityScore: real("quality_score"),
    qualityBreakdown: jsonb("quality_breakdown").$type<Record<string, number>>(),
    tokenCount: integer("token_count"),
    isValid: boolean("is_valid").notNull().default(true),
    status: text("status", { enum: PAIR_STATUSES }).notNull().default("accepted"),
    rejectionReason: text("rejection_reason"),
    sourceChunkId: uuid("source_chunk_id").references(() => chunks.id, { onDelete: "set null" }),
    sourceDocumentId: uuid("source_document_id").references(() => documents.id, { onDelete: "set null" }),
    generator: text("generator"),
    model: text("model"),
    promptVersion: text("prompt_version"),
    /** What the pair is; never `auto`, which only asks the generator to choose. */
    mode: text("mode", { enum: GENERATION_MODES }).$type<PairMode>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("training_pairs_dataset_idx").on(t.datasetId, t.seq),
    index("training_pairs_chunk_idx").on(t.sourceChunkId),
  ],
);

export const trainingJobs = pgTable(
  "training_jobs",
  {
    id: id(),
    userId: owner(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    datasetId: uuid("dataset_id")
      .notNull()
      .references(() => trainingDatasets.id, { onDelete: "cascade" }),
    provider: text("provider", { enum: PROVIDERS }).notNull(),
    baseModel: text("base_model").notNull(),
    status: text("status", { enum: TRAINING_JOB_STATUSES }).notNull().default("pending"),
    /** The provider's own status word, kept even when it has no FineFlow equivalent (e.g. `paused`). */
    providerStatus: text("provider_status"),
    hyperparameters: jsonb("hyperparameters").$type<Record<string, unknown>>().notNull().default({}),
    validationSplit: real("validation_split"),
    suffix: text("suffix"),
    providerFileId: text("provider_file_id"),
    providerValidationFileId: text("provider_validation_file_id"),
    providerJobId: text("provider_job_id"),
    fineTunedModel: text("fine_tuned_model"),
    progressPercent: integer("progress_percent").notNull().default(0),
    currentStep: text("current_step"),
    trainedTokens: bigint("trained_tokens", { mode: "number" }),
    estimatedCostUsd: usd("estimated_cost_usd"),
    actualCostUsd: usd("actual_cost_usd"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    /** Checkpoints the provider kept, read when the job ends. */
    checkpoints: jsonb("checkpoints").$type<Record<string, unknown>[]>().notNull().default([]),
    /**
     * The one scheduled poll that may act on this job: a poll carrying another token is stale and does
     * nothing, so a restart or a resume never starts a second polling chain.
     */
    pollToken: uuid("poll_token"),
    trackingStartedAt: timestamp("tracking_started_at", { withTimezone: true }),
    trackingPausedAt: timestamp("tracking_paused_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("training_jobs_user_idx").on(t.userId), index("training_jobs_status_idx").on(t.status)],
);

/** Every provider event, metrics included, so loss curves come from the database. */
export const trainingJobEvents = pgTable(
  "training_job_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    jobId: uuid("job_id")
      .notNull()
      .references(() => trainingJobs.id, { onDelete: "cascade" }),
    providerEventId: text("provider_event_id").notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull(),
    level: text("level").notNull().default("info"),
    type: text("type").notNull().default("message"),
    message: text("message").notNull().default(""),
    step: integer("step"),
    trainLoss: real("train_loss"),
    validLoss: real("valid_loss"),
    trainAccuracy: real("train_accuracy"),
    validAccuracy: real("valid_accuracy"),
    data: jsonb("data").$type<Record<string, unknown>>(),
  },
  (t) => [unique("training_job_events_provider_key").on(t.jobId, t.providerEventId)],
);

/** API keys per user and provider: AES-256-GCM ciphertext only, plus the last four characters for display. */
export const userApiKeys = pgTable(
  "user_api_keys",
  {
    userId: owner(),
    provider: text("provider", { enum: KEY_PROVIDERS }).notNull(),
    keyEncrypted: text("key_encrypted").notNull(),
    keyLast4: text("key_last4").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.provider] })],
);

/** A user's own chat endpoint for dataset generation; its key is the `llm` row of `user_api_keys`. */
export const userLlmEndpoints = pgTable("user_llm_endpoints", {
  userId: owner().primaryKey(),
  baseUrl: text("base_url").notNull(),
  model: text("model").notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** What a project spent or reserved, per calendar month: generation calls and training jobs. */
export const spendLedger = pgTable(
  "spend_ledger",
  {
    id: id(),
    userId: owner(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: SPEND_KINDS }).notNull(),
    amountUsd: usd("amount_usd").notNull(),
    datasetId: uuid("dataset_id").references(() => trainingDatasets.id, { onDelete: "set null" }),
    trainingJobId: uuid("training_job_id").references(() => trainingJobs.id, { onDelete: "set null" }),
    description: text("description").notNull().default(""),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("spend_ledger_project_month_idx").on(t.projectId, t.occurredAt)],
);

/**
 * Each process running background jobs says here, every few seconds, that it is alive and which jobs it is
 * running (`Queue`): pg-boss 10 has no heartbeat of its own, so a job whose process died would otherwise
 * stay "active" until its 15-minute expiry.
 */
export const queueWorkers = pgTable("queue_workers", {
  id: uuid("id").primaryKey(),
  beatAt: timestamp("beat_at", { withTimezone: true }).notNull(),
  jobIds: uuid("job_ids").array().notNull(),
});
