/** Every status and enumerated value of the domain, in one place; the schema and the API read them here. */
export const BUDGET_ENFORCEMENTS = ["warn", "block"] as const;
export type BudgetEnforcement = (typeof BUDGET_ENFORCEMENTS)[number];

export const DOCUMENT_STATUSES = ["pending", "processing", "ready", "failed"] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

export const DATASET_STATUSES = ["generating", "ready", "training", "failed"] as const;
export type DatasetStatus = (typeof DATASET_STATUSES)[number];

/** The seed's four formats and Bedrock's messages format for Claude: a dataset's default export. */
export const DATASET_FORMATS = ["openai", "anthropic", "anthropic-bedrock", "alpaca", "sharegpt"] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export const GENERATION_MODES = ["auto", "qa", "instruction", "conversation"] as const;
export type GenerationMode = (typeof GENERATION_MODES)[number];

export const PAIR_STATUSES = ["accepted", "rejected"] as const;
export type PairStatus = (typeof PAIR_STATUSES)[number];

export const GENERATION_TASK_STATUSES = ["pending", "done", "failed", "skipped"] as const;
export type GenerationTaskStatus = (typeof GENERATION_TASK_STATUSES)[number];

export const TRAINING_JOB_STATUSES = [
  "pending",
  "uploading",
  "validating",
  "queued",
  "training",
  "completed",
  "failed",
  "cancelled",
] as const;
export type TrainingJobStatus = (typeof TRAINING_JOB_STATUSES)[number];

export const PROVIDERS = ["openai", "together", "local"] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Whose keys FineFlow keeps: the two training providers and the generation LLM endpoint. */
export const KEY_PROVIDERS = ["openai", "together", "llm"] as const;
export type KeyProvider = (typeof KEY_PROVIDERS)[number];

export const SPEND_KINDS = ["generation", "training_reservation", "training"] as const;
export type SpendKind = (typeof SPEND_KINDS)[number];
