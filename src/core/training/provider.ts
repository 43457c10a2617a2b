import type { TrainingJobStatus } from "../statuses.js";

/**
 * The one interface every hosted fine-tuning provider sits behind. Adapters (src/providers/finetune)
 * translate a provider's API into these shapes; the training service never sees a vendor type.
 * Every call takes the user's key, so nothing key-shaped is held by an adapter.
 */

export type HostedProvider = "openai" | "together";

export interface Hyperparameters {
  /** Epochs; undefined lets the provider choose (OpenAI's `auto`). */
  nEpochs?: number;
  batchSize?: number;
  /** OpenAI's multiplier of its own base learning rate. */
  learningRateMultiplier?: number;
  /** Together's absolute learning rate. */
  learningRate?: number;
}

/**
 * Together evaluates a validation file only as often as it is asked (`n_evals`), and bills every
 * evaluation: its total tokens are n_epochs × training tokens + n_evals × validation tokens. FineFlow asks
 * for one evaluation per epoch; the job, the quote and the estimate all take the count from here.
 */
export const togetherEvaluations = (nEpochs: number | undefined) => nEpochs ?? 1;

export interface CreateJobInput {
  model: string;
  trainingFileId: string;
  validationFileId?: string;
  hyperparameters: Hyperparameters;
  suffix?: string;
  /** FineFlow's own job id, recorded with the provider where it allows (OpenAI `metadata`). */
  fineflowJobId: string;
}

/** One per-step measurement of a run: the points of a loss curve. */
export interface StepMetrics {
  step: number;
  totalSteps?: number;
  trainLoss?: number;
  validLoss?: number;
  trainAccuracy?: number;
  validAccuracy?: number;
}

export interface ProviderJob {
  id: string;
  /** The provider's own status word, kept as is (`validating_files`, `paused`, `running`, …). */
  providerStatus: string;
  /** FineFlow's status for it, or undefined when the word has no equivalent (then the job keeps its status). */
  status?: TrainingJobStatus;
  model: string;
  trainingFileId: string;
  validationFileId?: string;
  fineTunedModel?: string;
  trainedTokens?: number;
  /** A cancel was asked for, and the provider has not stopped the job yet (Together's `cancel_requested`). */
  cancelling?: boolean;
  /** The provider's own price for the run, when it reports one (Together's `total_price`). */
  totalPriceUsd?: number;
  /** Epochs and other hyperparameters as the provider resolved them. */
  hyperparameters: Hyperparameters;
  resultFileIds: string[];
  error?: { code?: string; message: string; param?: string };
  createdAt: Date;
  finishedAt?: Date;
}

export interface ProviderEvent {
  /** Unique per job at the provider; FineFlow stores each event once under it. */
  id: string;
  createdAt: Date;
  level: "info" | "warn" | "error";
  type: "message" | "metrics";
  message: string;
  metrics?: StepMetrics;
}

export interface ProviderCheckpoint {
  id: string;
  step: number;
  model?: string;
  metrics?: StepMetrics;
  createdAt: Date;
}

/** How an adapter reaches its provider: the same knobs for each; tests point `baseURL` at a local double. */
export interface HostedProviderOptions {
  /** The provider's API root; its public one by default. */
  baseURL?: string;
  /** The SDK's own retries of 408/409/429/5xx and connection errors. */
  maxRetries?: number;
  /** Per request. */
  timeoutMs?: number;
}

export interface TrainingProvider {
  readonly name: HostedProvider;
  /**
   * Uploads a JSONL file for fine-tuning; `filename` is unique per FineFlow job and file role. `content` may
   * be backed by a file on disk (`fs.openAsBlob`): it is streamed, never read into memory whole.
   */
  uploadFile(apiKey: string, input: { filename: string; content: Blob }): Promise<{ id: string }>;
  /** The id of a fine-tuning file already uploaded under `filename`, so a restart never uploads twice. */
  findFile(apiKey: string, filename: string): Promise<{ id: string } | undefined>;
  createJob(apiKey: string, input: CreateJobInput): Promise<ProviderJob>;
  /** The job already created on `trainingFileId` (unique per FineFlow job), so a restart never creates twice. */
  findJobByTrainingFile(apiKey: string, trainingFileId: string): Promise<ProviderJob | undefined>;
  getJob(apiKey: string, jobId: string): Promise<ProviderJob>;
  /**
   * The job's events newer than the one with id `after` (every event when it is absent or unknown), oldest
   * first; the adapter follows the provider's paging and stops at `after`, so a poll of a long job asks for
   * one page, not all. A provider that lists everything at once may return older events too.
   */
  listEvents(apiKey: string, jobId: string, after?: string): Promise<ProviderEvent[]>;
  listCheckpoints(apiKey: string, jobId: string): Promise<ProviderCheckpoint[]>;
  /** Per-step metrics from the job's result files when the provider writes them (OpenAI's CSV), else []. */
  readResultMetrics(apiKey: string, job: ProviderJob): Promise<StepMetrics[]>;
  cancelJob(apiKey: string, jobId: string): Promise<ProviderJob>;
  /**
   * The provider's own price in USD for training on an uploaded file (and evaluating the validation file
   * as the job will), when it offers one (Together counts the files' tokens itself), else undefined.
   */
  estimatePriceUsd?(
    apiKey: string,
    input: { model: string; trainingFileId: string; validationFileId?: string; nEpochs?: number },
  ): Promise<number | undefined>;
}

/** What went wrong at the provider, classified so the service can say it plainly with a next step. */
export type ProviderErrorKind =
  /** The key is missing, wrong or revoked (401). */
  | "auth"
  /** Out of credit or over quota; retrying will not help. */
  | "quota"
  /** The account may not fine-tune (OpenAI's wind-down answer). */
  | "not_allowed"
  /** The provider refused the file or a parameter; `param` names it. */
  | "invalid_request"
  /** A job the provider accepted ended in failure; `code` (or `param`) says whether the data was at fault. */
  | "job_failed"
  | "not_found"
  /** 429 / 5xx / network: worth retrying later. */
  | "transient";

export class ProviderError extends Error {
  constructor(
    readonly provider: HostedProvider,
    readonly kind: ProviderErrorKind,
    message: string,
    readonly details: { status?: number; code?: string; param?: string; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = "ProviderError";
  }
}
