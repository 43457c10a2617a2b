import OpenAI, { APIConnectionError, APIError, OpenAIError } from "openai";
import type { FineTuningJob, FineTuningJobEvent } from "openai/resources/fine-tuning/jobs/jobs";
import type { TrainingJobStatus } from "../../core/statuses.js";
import {
  type CreateJobInput,
  type HostedProviderOptions,
  type Hyperparameters,
  type ProviderCheckpoint,
  ProviderError,
  type ProviderEvent,
  type ProviderJob,
  type StepMetrics,
  type TrainingProvider,
} from "../../core/training/provider.js";

/**
 * OpenAI fine-tuning behind FineFlow's `TrainingProvider`, on the official `openai` SDK. A client is
 * made per call from the caller's key and dropped, so the adapter never holds a key; every SDK error
 * becomes a `ProviderError` whose message never contains the key.
 */

const DEFAULT_BASE_URL = "https://api.openai.com/v1";
const PAGE_SIZE = 100;

const STATUSES: Record<string, TrainingJobStatus> = {
  validating_files: "validating",
  queued: "queued",
  running: "training",
  succeeded: "completed",
  failed: "failed",
  cancelled: "cancelled",
};

export function createOpenAiTrainingProvider(options: HostedProviderOptions = {}): TrainingProvider {
  const client = (apiKey: string) =>
    new OpenAI({
      apiKey,
      baseURL: options.baseURL ?? DEFAULT_BASE_URL,
      // Explicit nulls: the SDK would otherwise pick an organization/project from the server's environment.
      organization: null,
      project: null,
      maxRetries: options.maxRetries ?? 2,
      // The SDK's 10 min is too long for a poll.
      timeout: options.timeoutMs ?? 60_000,
    });

  /** Runs one SDK conversation, turning whatever it throws into a ProviderError. */
  const call = async <T>(apiKey: string, work: (openai: OpenAI) => Promise<T>): Promise<T> => {
    try {
      return await work(client(apiKey));
    } catch (error) {
      throw toProviderError(error, apiKey);
    }
  };

  return {
    name: "openai",

    uploadFile: (apiKey, { filename, content }) =>
      call(apiKey, async (openai) => {
        // A File made of the Blob keeps it lazy; toFile would read a plain Blob into memory.
        const file = await openai.files.create({ file: new File([content], filename), purpose: "fine-tune" });
        return { id: file.id };
      }),

    findFile: (apiKey, filename) =>
      call(apiKey, async (openai) => {
        // Newest first, so a re-upload after a partial failure wins over an older copy.
        for await (const file of openai.files.list({
          purpose: "fine-tune",
          order: "desc",
          limit: PAGE_SIZE,
        })) {
          if (file.filename === filename) return { id: file.id };
        }
        return undefined;
      }),

    createJob: (apiKey, input) => {
      if (input.hyperparameters.learningRate !== undefined) {
        const message =
          "OpenAI takes a learning-rate multiplier (learningRateMultiplier), not an absolute learning rate.";
        return Promise.reject(
          new ProviderError("openai", "invalid_request", message, { param: "learningRate" }),
        );
      }
      return call(apiKey, async (openai) =>
        toProviderJob(await openai.fineTuning.jobs.create(createParams(input))),
      );
    },

    findJobByTrainingFile: (apiKey, trainingFileId) =>
      call(apiKey, async (openai) => {
        // The port gives no FineFlow id to filter metadata by; the training file is as unique, and since
        // no job can predate its file, the newest-first scan stops at the file's upload time.
        const uploadedAt = await openai.files.retrieve(trainingFileId).then(
          (file) => file.created_at,
          (error: unknown) => {
            if (error instanceof APIError && error.status === 404) return 0;
            throw error;
          },
        );
        for await (const job of openai.fineTuning.jobs.list({ limit: PAGE_SIZE })) {
          if (job.training_file === trainingFileId) return toProviderJob(job);
          if (job.created_at < uploadedAt) break;
        }
        return undefined;
      }),

    getJob: (apiKey, jobId) =>
      call(apiKey, async (openai) => toProviderJob(await openai.fineTuning.jobs.retrieve(jobId))),

    listEvents: (apiKey, jobId, after) =>
      call(apiKey, async (openai) => {
        const newestFirst: ProviderEvent[] = [];
        // Newest first: everything from `after` on is stored already, so the pages after it are not asked for.
        for await (const event of openai.fineTuning.jobs.listEvents(jobId, { limit: PAGE_SIZE })) {
          if (event.id === after) break;
          newestFirst.push(toProviderEvent(event));
        }
        return newestFirst.reverse();
      }),

    listCheckpoints: (apiKey, jobId) =>
      call(apiKey, async (openai) => {
        const checkpoints: ProviderCheckpoint[] = [];
        for await (const checkpoint of openai.fineTuning.jobs.checkpoints.list(jobId, { limit: PAGE_SIZE })) {
          const metrics = checkpoint.metrics;
          checkpoints.push({
            id: checkpoint.id,
            step: checkpoint.step_number,
            model: checkpoint.fine_tuned_model_checkpoint,
            metrics: withoutUndefined({
              step: checkpoint.step_number,
              trainLoss: metrics.train_loss,
              trainAccuracy: metrics.train_mean_token_accuracy,
              validLoss: metrics.full_valid_loss ?? metrics.valid_loss,
              validAccuracy: metrics.full_valid_mean_token_accuracy ?? metrics.valid_mean_token_accuracy,
            }),
            createdAt: fromUnix(checkpoint.created_at),
          });
        }
        return checkpoints.sort((a, b) => a.step - b.step);
      }),

    readResultMetrics: (apiKey, job) =>
      call(apiKey, async (openai) => {
        const byStep = new Map<number, StepMetrics>();
        for (const fileId of job.resultFileIds) {
          const text = await openai.files.content(fileId).then(
            (response) => response.text(),
            (error: unknown) => {
              // An expired result file leaves the curve from events; it is not worth failing the job.
              if (error instanceof APIError && error.status === 404) return "";
              throw error;
            },
          );
          for (const row of parseResultCsv(text)) byStep.set(row.step, { ...byStep.get(row.step), ...row });
        }
        return [...byStep.values()].sort((a, b) => a.step - b.step);
      }),

    cancelJob: (apiKey, jobId) =>
      call(apiKey, async (openai) => toProviderJob(await openai.fineTuning.jobs.cancel(jobId))),
  };
}

// ---------------------------------------------------------------------------------------------------
// Requests

function createParams(input: CreateJobInput): OpenAI.FineTuning.JobCreateParams {
  // Fields left undefined are omitted, so OpenAI applies its own `auto` for them.
  const hyperparameters = withoutUndefined({
    n_epochs: input.hyperparameters.nEpochs,
    batch_size: input.hyperparameters.batchSize,
    learning_rate_multiplier: input.hyperparameters.learningRateMultiplier,
  });
  return {
    model: input.model,
    training_file: input.trainingFileId,
    ...(input.validationFileId ? { validation_file: input.validationFileId } : {}),
    ...(input.suffix ? { suffix: input.suffix } : {}),
    method: { type: "supervised", supervised: { hyperparameters } },
    metadata: { fineflow_job_id: input.fineflowJobId },
  };
}

// ---------------------------------------------------------------------------------------------------
// Answers

function toProviderJob(job: FineTuningJob): ProviderJob {
  const resolved = job.method?.supervised?.hyperparameters ?? job.hyperparameters;
  // Older answers carry `error: {}` for "no error"; only a message makes it one.
  const error = job.error?.message
    ? withoutUndefined({
        code: job.error.code || undefined,
        message: job.error.message,
        param: job.error.param ?? undefined,
      })
    : undefined;
  return withoutUndefined({
    id: job.id,
    providerStatus: job.status,
    status: STATUSES[job.status],
    model: job.model,
    trainingFileId: job.training_file,
    validationFileId: job.validation_file ?? undefined,
    fineTunedModel: job.fine_tuned_model ?? undefined,
    trainedTokens: job.trained_tokens ?? undefined,
    hyperparameters: withoutUndefined<Hyperparameters>({
      nEpochs: finite(resolved?.n_epochs),
      batchSize: finite(resolved?.batch_size),
      learningRateMultiplier: finite(resolved?.learning_rate_multiplier),
    }),
    resultFileIds: job.result_files ?? [],
    error,
    createdAt: fromUnix(job.created_at),
    finishedAt: job.finished_at ? fromUnix(job.finished_at) : undefined,
  });
}

function toProviderEvent(event: FineTuningJobEvent): ProviderEvent {
  const metrics = event.type === "metrics" || hasStep(event.data) ? parseMetrics(event.data) : undefined;
  return withoutUndefined({
    id: event.id,
    createdAt: fromUnix(event.created_at),
    level: event.level,
    type: metrics ? "metrics" : "message",
    message: event.message,
    metrics,
  });
}

function hasStep(data: unknown): boolean {
  return typeof (data as { step?: unknown } | null | undefined)?.step === "number";
}

/** OpenAI's metrics event data: step, total_steps, train_loss, train/valid_mean_token_accuracy, valid_loss. */
function parseMetrics(data: unknown): StepMetrics | undefined {
  const values = (data ?? {}) as Record<string, unknown>;
  const step = finite(values.step);
  if (step === undefined) return undefined;
  return withoutUndefined({
    step,
    totalSteps: finite(values.total_steps),
    trainLoss: finite(values.train_loss),
    validLoss: finite(values.valid_loss) ?? finite(values.full_valid_loss),
    trainAccuracy: finite(values.train_mean_token_accuracy) ?? finite(values.train_accuracy),
    validAccuracy: finite(values.valid_mean_token_accuracy) ?? finite(values.full_valid_mean_token_accuracy),
  });
}

const CSV_COLUMNS: Record<string, keyof StepMetrics> = {
  step: "step",
  train_loss: "trainLoss",
  train_accuracy: "trainAccuracy",
  train_mean_token_accuracy: "trainAccuracy",
  valid_loss: "validLoss",
  valid_accuracy: "validAccuracy",
  valid_mean_token_accuracy: "validAccuracy",
};

/**
 * OpenAI's step_metrics.csv, which it serves base64-encoded; plain CSV is read too. Unknown columns
 * are ignored and empty cells (validation runs only every few steps) are left out.
 */
export function parseResultCsv(content: string): StepMetrics[] {
  const text = decodeResultFile(content);
  const [header, ...rows] = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (!header) return [];
  const columns = header.split(",").map((name) => CSV_COLUMNS[name.trim().toLowerCase()]);
  if (!columns.includes("step")) return [];
  const metrics: StepMetrics[] = [];
  for (const row of rows) {
    const entry: Partial<Record<keyof StepMetrics, number>> = {};
    row.split(",").forEach((cell, index) => {
      const column = columns[index];
      const value = cell.trim() === "" ? undefined : finite(Number(cell));
      if (column && value !== undefined) entry[column] = value;
    });
    if (entry.step !== undefined) metrics.push(entry as StepMetrics);
  }
  return metrics;
}

function decodeResultFile(content: string): string {
  const trimmed = content.trim();
  if (trimmed.includes(",") || !/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) return content;
  return Buffer.from(trimmed, "base64").toString("utf8");
}

// ---------------------------------------------------------------------------------------------------
// Errors

/**
 * OpenAI's answers sorted by what the user can do about them. The 401 text is replaced outright:
 * OpenAI echoes part of the key in it.
 */
export function toProviderError(error: unknown, apiKey: string): unknown {
  if (error instanceof ProviderError) return error;
  const scrub = (text: string) => redact(text, apiKey);
  if (error instanceof APIConnectionError) {
    return new ProviderError("openai", "transient", `Could not reach OpenAI: ${scrub(error.message)}`);
  }
  if (error instanceof APIError) {
    const body = (error.error ?? {}) as {
      message?: unknown;
      code?: unknown;
      param?: unknown;
      type?: unknown;
    };
    const status = error.status;
    const code = typeof body.code === "string" ? body.code : undefined;
    const param = typeof body.param === "string" ? body.param : undefined;
    const message = scrub(typeof body.message === "string" ? body.message : error.message);
    const details = withoutUndefined({ status, code, param });
    if (status === 401) {
      const reason = code ? ` (${code})` : "";
      return new ProviderError("openai", "auth", `OpenAI rejected the API key${reason}.`, details);
    }
    if (code === "fine_tuning_not_available" || status === 403) {
      return new ProviderError("openai", "not_allowed", message, details);
    }
    if (status === 429 && (code === "insufficient_quota" || body.type === "insufficient_quota")) {
      return new ProviderError("openai", "quota", message, details);
    }
    if (status === 429 || status === undefined || status === 408 || status >= 500) {
      const retryAfterMs = retryAfter(error.headers);
      return new ProviderError(
        "openai",
        "transient",
        message,
        withoutUndefined({ ...details, retryAfterMs }),
      );
    }
    if (status === 404) return new ProviderError("openai", "not_found", message, details);
    return new ProviderError("openai", "invalid_request", message, details);
  }
  // The SDK refuses to start without a key (OpenAIError); anything else is a bug to surface as is.
  if (error instanceof OpenAIError) return new ProviderError("openai", "auth", scrub(error.message));
  return error;
}

function redact(text: string, apiKey: string): string {
  let result = apiKey.length > 0 ? text.split(apiKey).join("[redacted]") : text;
  // Also any key-shaped token, in case a proxy echoes a neighbouring key.
  result = result.replace(/\bsk-[A-Za-z0-9_-]{8,}/g, "sk-[redacted]");
  return result;
}

/** retry-after-ms, else retry-after (seconds or an HTTP date), as OpenAI and its SDK read them. */
function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

function fromUnix(seconds: number): Date {
  return new Date(seconds * 1000);
}

function finite(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Drops undefined fields, so results compare cleanly and optional fields stay truly absent. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
