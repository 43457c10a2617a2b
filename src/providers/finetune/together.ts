import { createHash } from "node:crypto";
import Together, { APIConnectionError, APIError } from "together-ai";
import type { FileResponse } from "together-ai/resources/files";
import type {
  FineTuningCreateParams,
  FineTuningListResponse,
  FinetuneEvent,
  FinetuneResponse,
} from "together-ai/resources/fine-tuning";
import type { TrainingJobStatus } from "../../core/statuses.js";
import {
  type CreateJobInput,
  type HostedProviderOptions,
  type ProviderCheckpoint,
  ProviderError,
  type ProviderEvent,
  type ProviderJob,
  type StepMetrics,
  type TrainingProvider,
  togetherEvaluations,
} from "../../core/training/provider.js";

/**
 * Together AI fine-tuning behind FineFlow's TrainingProvider port, on the official `together-ai` SDK.
 * A client is built per call from the caller's key and dropped afterwards, so no key outlives a call,
 * and every SDK error leaves here as a ProviderError whose message never contains the key.
 */

const DEFAULT_BASE_URL = "https://api.together.ai/v1";
/** Together reports `total_price` in nanodollars (together-python's finetune_price_to_dollars). */
const NANODOLLARS_PER_USD = 1e9;

const STATUSES: Record<string, TrainingJobStatus | undefined> = {
  pending: "queued",
  queued: "queued",
  running: "training",
  compressing: "training",
  uploading: "training",
  completed: "completed",
  cancelled: "cancelled",
  error: "failed",
  user_error: "failed",
  // The job may still finish before the cancel lands, so it keeps its status until Together says.
  cancel_requested: undefined,
};
/**
 * Uploads and job creations are sent once: a retry after a lost answer would make a second file or job.
 * The service retries them itself, after findFile / findJobByTrainingFile say nothing was made.
 */
const ONCE = { maxRetries: 0 };
const FINISHED = new Set(["completed", "cancelled", "error", "user_error"]);

type TruncatedJob = FineTuningListResponse.Data;

export function createTogetherTrainingProvider(options: HostedProviderOptions = {}): TrainingProvider {
  const client = (apiKey: string) =>
    new Together({
      apiKey,
      // Explicit, so the SDK never falls back to TOGETHER_BASE_URL behind config.ts's back.
      baseURL: options.baseURL ?? DEFAULT_BASE_URL,
      ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    });

  /** Runs one SDK call and turns whatever it throws into a ProviderError without the key in it. */
  const call = async <T>(apiKey: string, run: (together: Together) => Promise<T>): Promise<T> => {
    try {
      return await run(client(apiKey));
    } catch (error) {
      throw toProviderError(error, apiKey);
    }
  };

  return {
    name: "together",

    uploadFile(apiKey, { filename, content }) {
      // The SDK's files.upload() cannot serve: it takes a path, posts to TOGETHER_API_BASE_URL rather than
      // the client's baseURL, and on Node 20 fails under ESM (its fs helpers come from `require`) and
      // under CommonJS (it streams a body without `duplex`). The spec's multipart /files/upload can.
      const form = new FormData();
      form.append("purpose", "fine-tune");
      form.append("file_name", filename);
      form.append("file_type", "jsonl");
      form.append("file", content, filename);
      return call(apiKey, async (together) => {
        const file = await together.post<FileResponse>("/files/upload", { body: form, ...ONCE });
        return { id: file.id };
      });
    },

    findFile(apiKey, filename) {
      return call(apiKey, async (together) => {
        const { data } = await together.files.list();
        const matches = data.filter((file) => file.filename === filename && file.purpose === "fine-tune");
        const newest = matches.sort((a, b) => b.created_at - a.created_at)[0];
        return newest && { id: newest.id };
      });
    },

    createJob(apiKey, input) {
      return call(apiKey, async (together) =>
        mapJob(await together.fineTuning.create(createParams(input), ONCE)),
      );
    },

    findJobByTrainingFile(apiKey, trainingFileId) {
      return call(apiKey, async (together) => {
        const { data } = await together.fineTuning.list();
        const matches = data.filter((job) => job.training_file === trainingFileId);
        const newest = matches.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at))[0];
        return newest && mapJob(newest);
      });
    },

    getJob(apiKey, jobId) {
      return call(apiKey, async (together) => mapJob(await together.fineTuning.retrieve(jobId)));
    },

    listEvents(apiKey, jobId) {
      return call(apiKey, async (together) => {
        const [{ data }, metrics] = await Promise.all([
          together.fineTuning.listEvents(jobId),
          readMetrics(together, jobId),
        ]);
        const events = data.map(mapEvent);
        // Together's events carry no losses; its /metrics rows do. They join the events as "metrics"
        // events so the loss curve grows while the job runs, as OpenAI's metrics events make it.
        const totalSteps = Math.max(0, ...data.map((event) => event.total_steps ?? 0)) || undefined;
        // Metrics rows carry no time in the spec: each is placed at the latest event seen with it.
        const at = events.at(-1)?.createdAt ?? new Date(0);
        const points = metrics.map((point) =>
          metricsEvent({ ...point, ...(totalSteps ? { totalSteps } : {}) }, at),
        );
        return [...events, ...points].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
      });
    },

    listCheckpoints(apiKey, jobId) {
      return call(apiKey, async (together) => {
        const { data } = await together.fineTuning.listCheckpoints(jobId);
        return data
          .map((checkpoint): ProviderCheckpoint => {
            const intermediate = checkpoint.checkpoint_type.toLowerCase().includes("intermediate");
            // `<job>:<step>` is the name Together's from_checkpoint takes for an intermediate checkpoint.
            const name = `${jobId}:${checkpoint.step}`;
            return {
              id: intermediate
                ? name
                : `${jobId}:${checkpoint.checkpoint_type.toLowerCase().replace(/\W+/g, "-")}`,
              step: checkpoint.step,
              ...(intermediate ? { model: name } : {}),
              createdAt: new Date(checkpoint.created_at),
            };
          })
          .sort((a, b) => a.step - b.step);
      });
    },

    readResultMetrics(apiKey, job) {
      return call(apiKey, (together) => readMetrics(together, job.id));
    },

    cancelJob(apiKey, jobId) {
      return call(apiKey, async (together) => mapJob(await together.fineTuning.cancel(jobId)));
    },

    estimatePriceUsd(apiKey, { model, trainingFileId, validationFileId, nEpochs }) {
      return call(apiKey, async (together) => {
        const estimate = await together.fineTuning.estimatePrice({
          training_file: trainingFileId,
          model,
          n_epochs: nEpochs,
          ...evaluations(validationFileId, nEpochs),
        });
        return estimate.estimation_available === false ? undefined : estimate.estimated_total_price;
      });
    },
  };
}

function createParams(input: CreateJobInput): FineTuningCreateParams {
  const { nEpochs, batchSize, learningRate, learningRateMultiplier } = input.hyperparameters;
  if (learningRateMultiplier !== undefined) {
    throw new ProviderError(
      "together",
      "invalid_request",
      "Together takes an absolute learning rate (learningRate), not a learningRateMultiplier.",
      { param: "learningRateMultiplier" },
    );
  }
  // No training_type: Together then trains a LoRA adapter, which is what FineFlow wants by default.
  return {
    model: input.model,
    training_file: input.trainingFileId,
    ...evaluations(input.validationFileId, nEpochs),
    ...(nEpochs === undefined ? {} : { n_epochs: nEpochs }),
    ...(batchSize === undefined ? {} : { batch_size: batchSize }),
    ...(learningRate === undefined ? {} : { learning_rate: learningRate }),
    ...(input.suffix ? { suffix: input.suffix } : {}),
  };
}

/** A validation file is only read (and billed) when evaluations are asked for; the quote asks the same. */
function evaluations(validationFileId: string | undefined, nEpochs: number | undefined) {
  return validationFileId ? { validation_file: validationFileId, n_evals: togetherEvaluations(nEpochs) } : {};
}

function mapJob(job: FinetuneResponse | TruncatedJob): ProviderJob {
  const finished = FINISHED.has(job.status);
  const failure = STATUSES[job.status] === "failed";
  return {
    id: job.id,
    providerStatus: job.status,
    status: STATUSES[job.status],
    model: job.model ?? "",
    trainingFileId: job.training_file ?? "",
    ...(job.validation_file ? { validationFileId: job.validation_file } : {}),
    // Together names the output model when the job is created; it is only usable once completed.
    ...(job.status === "completed" && job.model_output_name ? { fineTunedModel: job.model_output_name } : {}),
    ...(job.status === "cancel_requested" ? { cancelling: true } : {}),
    // token_count is the whole run's (n_epochs × training + n_evals × validation tokens), known from the
    // start, and Together gives no count of the tokens done so far: it is reported as trained only once
    // the job has completed. A stopped job's cost comes from total_price, which Together settles itself.
    ...(job.status === "completed" && typeof job.token_count === "number"
      ? { trainedTokens: job.token_count }
      : {}),
    ...(typeof job.total_price === "number" ? { totalPriceUsd: job.total_price / NANODOLLARS_PER_USD } : {}),
    hyperparameters: {
      ...(job.n_epochs === undefined ? {} : { nEpochs: job.n_epochs }),
      ...(typeof job.batch_size === "number" ? { batchSize: job.batch_size } : {}),
      ...(job.learning_rate === undefined ? {} : { learningRate: job.learning_rate }),
    },
    resultFileIds: [],
    ...(failure ? { error: failureOf(job) } : {}),
    createdAt: new Date(job.created_at ?? 0),
    ...(finished && job.updated_at ? { finishedAt: new Date(job.updated_at) } : {}),
  };
}

/**
 * Together's job has no error field: the reason is in its last job_error event. Its data checks fail with
 * "Invalid file …"; those get the code of a bad training file, so only they blame the dataset, while
 * anything else (a CUDA error) reads as Together's own failure.
 */
function failureOf(job: FinetuneResponse | TruncatedJob): { code: string; message: string } {
  const reason = job.events?.findLast((event) => event.type === "job_error")?.message;
  const message = reason || `Together reported the job as ${job.status}.`;
  const badData = /^invalid file\b/i.test(message);
  return { code: badData ? "invalid_training_file" : job.status, message };
}

function mapEvent(event: FinetuneEvent): ProviderEvent {
  const step = event.step ?? 0;
  return {
    // Together's events have no id; their hash (or, failing that, their content) names them stably.
    id: eventId(event),
    createdAt: new Date(event.created_at),
    level: event.level?.includes("error") ? "error" : event.level?.includes("warn") ? "warn" : "info",
    type: "message",
    message: event.message,
    // Progress only (no losses): lets the caller show "step 3 of 6" from epoch and checkpoint events.
    ...(step > 0
      ? { metrics: { step, ...(event.total_steps ? { totalSteps: event.total_steps } : {}) } }
      : {}),
  };
}

function eventId(event: FinetuneEvent): string {
  const hash = (event as FinetuneEvent & { hash?: string }).hash;
  if (hash) return hash;
  const content = `${event.created_at}|${event.type}|${event.step ?? ""}|${event.message}`;
  return createHash("sha256").update(content).digest("hex").slice(0, 32);
}

function metricsEvent(metrics: StepMetrics, fallbackAt: Date): ProviderEvent {
  const losses = [
    metrics.trainLoss === undefined ? "" : `train loss ${metrics.trainLoss}`,
    metrics.validLoss === undefined ? "" : `valid loss ${metrics.validLoss}`,
  ].filter(Boolean);
  return {
    id: `metrics:${metrics.step}`,
    createdAt: fallbackAt,
    level: "info",
    type: "metrics",
    message: `Step ${metrics.step}: ${losses.join(", ")}`,
    metrics,
  };
}

/** Together's /metrics rows (`train/loss`, `eval/loss` by `train/global_step`), one point per step. */
async function readMetrics(together: Together, jobId: string): Promise<StepMetrics[]> {
  let rows: Array<Record<string, number>>;
  try {
    rows = (await together.fineTuning.listMetrics(jobId)).metrics ?? [];
  } catch (error) {
    // Jobs from before Together recorded metrics answer 404: they simply have none.
    if (error instanceof APIError && error.status === 404) return [];
    throw error;
  }
  const byStep = new Map<number, StepMetrics>();
  for (const row of rows) {
    const step = row["train/global_step"];
    if (typeof step !== "number") continue;
    const point: StepMetrics = { ...byStep.get(step), step };
    if (typeof row["train/loss"] === "number") point.trainLoss = row["train/loss"];
    if (typeof row["eval/loss"] === "number") point.validLoss = row["eval/loss"];
    byStep.set(step, point);
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** Classifies what the SDK threw, so the service can say it plainly; the key never appears. */
function toProviderError(error: unknown, apiKey: string): unknown {
  if (error instanceof ProviderError) return error;
  const scrub = (text: string) => (apiKey.length >= 4 ? text.split(apiKey).join("[redacted]") : text);
  if (error instanceof APIConnectionError) {
    return new ProviderError("together", "transient", scrub(`Could not reach Together AI: ${error.message}`));
  }
  if (!(error instanceof APIError) || error.status === undefined) return error;
  const { status, headers } = error;
  const body = (error.error ?? {}) as { error?: TogetherErrorBody } & TogetherErrorBody;
  const detail = body.error ?? body;
  const message = scrub(typeof detail.message === "string" ? detail.message : error.message);
  const details = {
    status,
    ...(detail.code ? { code: scrub(detail.code) } : {}),
    ...(detail.param ? { param: scrub(detail.param) } : {}),
  };
  const kind =
    status === 401
      ? "auth"
      : status === 402 || /insufficient (balance|funds|credit)/i.test(message)
        ? "quota"
        : status === 403
          ? "not_allowed"
          : status === 404
            ? "not_found"
            : status === 408 || status === 409 || status === 429 || status >= 500
              ? "transient"
              : "invalid_request";
  const retryAfterMs = kind === "transient" ? retryAfter(headers) : undefined;
  return new ProviderError("together", kind, message, {
    ...details,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

interface TogetherErrorBody {
  message?: unknown;
  type?: string;
  code?: string | null;
  param?: string | null;
}

function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get("retry-after-ms"));
  if (ms > 0) return ms;
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (!Number.isNaN(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
