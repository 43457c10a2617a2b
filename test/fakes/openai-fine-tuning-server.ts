import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { seededRandom } from "../../src/core/random.js";
import { type ContractViolation, loadOpenApiContract } from "./openapi-contract.js";

/**
 * A local double of OpenAI's files and fine-tuning API (`/v1/files…`, `/v1/fine_tuning/jobs…`),
 * faithful to /work/shared/reference/openai/openapi.yaml: every request is checked against the
 * document (a non-conforming one gets OpenAI's 400), and in strict mode every answer is checked too,
 * so a test can assert `contractViolations` is empty. The real `openai` SDK talks to it over loopback.
 *
 * Jobs run on a simulated clock that only `advance()` moves, so a test sees a whole run in
 * milliseconds and never waits on wall time. The timeline of a job created at t (seconds):
 *
 *   t                               validating_files  "Created fine-tuning job", "Validating training file"
 *   t + validatingSeconds (10)      files checked: failed (error.code invalid_training_file /
 *                                   invalid_validation_file) or queued; hyperparameters resolved from
 *                                   `auto`, estimated_finish set
 *   + queuedSeconds (20)            running, "Fine-tuning job started"
 *   + k × secondsPerStep (1)        step k of N, N = ceil(examples × n_epochs / batch_size): a `metrics`
 *                                   event per step (valid_* every ~N/10 steps with a validation file);
 *                                   at the end of each of the last 3 epochs a checkpoint (ftckpt_…)
 *   after step N                    succeeded: fine_tuned_model `ft:<model>:<org>:<suffix>:<id>`,
 *                                   trained_tokens = file tokens × n_epochs, result_files = [the
 *                                   step_metrics.csv file, base64-encoded as OpenAI serves it]
 *
 * `failTraining` fails a job at a given step instead; cancel works in validating_files, queued and
 * running (and paused); `pauseJob()`/`resumeJob()` (or POST …/pause, …/resume) hold a running job.
 *
 * Approximations, documented because the exact wording at OpenAI is not published:
 * - The wind-down refusal (fine-tuning closed to the account, 2026): 403 with
 *   code "fine_tuning_not_available" on POST /fine_tuning/jobs — reports describe a permission-denied
 *   error; uploads and reads keep working as they do for existing accounts.
 * - Error messages for unknown files/jobs and refused cancels follow OpenAI's style, not its text.
 * - Each API key is its own project: files and jobs made with one key are invisible to another.
 */

export const FINE_TUNABLE_MODELS = [
  "gpt-4o-mini-2024-07-18",
  "gpt-4o-2024-08-06",
  "gpt-4.1-2025-04-14",
  "gpt-4.1-mini-2025-04-14",
  "gpt-4.1-nano-2025-04-14",
] as const;

export const OPENAI_REFERENCE = "/work/shared/reference/openai/openapi.yaml";

export interface FakeApiError {
  message: string;
  type: string;
  code?: string | null;
  param?: string | null;
}

export interface FakeSchedule {
  /** Seconds in validating_files; default 10. */
  validatingSeconds: number;
  /** Seconds in queued; default 20. */
  queuedSeconds: number;
  /** Simulated seconds per training step; default 1. */
  secondsPerStep: number;
}

export interface FakeFineTuningOptions {
  /** Bearer keys accepted; any other gets 401 invalid_api_key. Default ["sk-test-fineflow"]. */
  apiKeys?: string[];
  /** Keys (or "all") whose job creations get the wind-down refusal (403 fine_tuning_not_available). */
  windDownKeys?: string[] | "all";
  /** Keys whose job creations get 429 insufficient_quota. */
  quotaExceededKeys?: string[];
  /**
   * Refuses a training file at the validation stage (the job fails with invalid_training_file) with the
   * returned message; the fake's own checks (JSONL, `messages`, at least `minExamples`) run regardless.
   */
  rejectTrainingFile?: (file: { id: string; filename: string; content: string }) => string | undefined;
  /** Fails a running job at `atStep` (default 1) when `when` (default: every job) says so. */
  failTraining?: {
    atStep?: number;
    code?: string;
    message?: string;
    when?: (job: {
      id: string;
      model: string;
      suffix: string | null;
      metadata: Record<string, string> | null;
    }) => boolean;
  };
  schedule?: Partial<FakeSchedule>;
  /** Simulated start, unix seconds; default 2026-01-01T00:00:00Z. */
  startTime?: number;
  /** Check the fake's own answers against the reference and record faults in `contractViolations`; default true. */
  strict?: boolean;
  /** Largest upload, bytes; default 512 MB like OpenAI. */
  maxFileBytes?: number;
  /** Fewest training examples OpenAI accepts; default 10. */
  minExamples?: number;
  /** How result files are served; OpenAI base64-encodes step_metrics.csv. Default "base64". */
  resultFileEncoding?: "base64" | "plain";
  /** The organization's name as it appears in fine_tuned_model; default "fineflow-test". */
  organizationName?: string;
  specPath?: string;
}

export interface FakeFineTuningStats {
  uploads: number;
  jobsCreated: number;
  cancels: number;
  /** Requests per operation, e.g. `GET /fine_tuning/jobs/{fine_tuning_job_id}/events`, errors included. */
  requests: Record<string, number>;
}

export interface FakeFineTuningServer {
  /** Base URL for the SDK, ending in /v1. */
  baseURL: string;
  stats: FakeFineTuningStats;
  /** The fake's own answers that did not conform to the reference (strict mode). */
  contractViolations: string[];
  /** Simulated now, unix seconds. */
  now(): number;
  /** Moves the simulated clock and every job with it. */
  advance(seconds: number): void;
  /** Advances until the job is succeeded, failed or cancelled (or paused); returns the seconds advanced. */
  runToEnd(jobId: string): number;
  pauseJob(jobId: string): void;
  resumeJob(jobId: string): void;
  /** The next `count` requests get 429 rate_limit_exceeded with retry-after and x-ratelimit-* headers. */
  rateLimitNext(count?: number, retryAfterSeconds?: number): void;
  /** The next `count` requests get this error answer (e.g. 500, 503). */
  failNext(count: number, status: number, error?: FakeApiError, headers?: Record<string, string>): void;
  setOptions(patch: Partial<FakeFineTuningOptions>): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// State

type JobStatus = "validating_files" | "queued" | "running" | "paused" | "succeeded" | "failed" | "cancelled";

interface StoredFile {
  id: string;
  project: string;
  filename: string;
  purpose: string;
  bytes: number;
  createdAt: number;
  content: Buffer;
  seq: number;
}

interface StoredEvent {
  id: string;
  createdAt: number;
  level: "info" | "warn" | "error";
  type: "message" | "metrics";
  message: string;
  data: Record<string, unknown>;
}

interface StoredCheckpoint {
  id: string;
  createdAt: number;
  step: number;
  metrics: Record<string, number>;
}

export interface FakeHyperparameters {
  n_epochs: number | "auto";
  batch_size: number | "auto";
  learning_rate_multiplier: number | "auto";
}

interface StoredJob {
  id: string;
  project: string;
  seq: number;
  model: string;
  trainingFile: string;
  validationFile: string | null;
  suffix: string | null;
  metadata: Record<string, string> | null;
  seed: number;
  createdAt: number;
  status: JobStatus;
  /** Simulated second at which the next transition happens (null while paused or finished). */
  nextAt: number | null;
  hyper: FakeHyperparameters;
  examples: number;
  fileTokens: number;
  step: number;
  totalSteps: number;
  failAtStep: number | null;
  events: StoredEvent[];
  checkpoints: StoredCheckpoint[];
  metricsRows: string[];
  fineTunedModel: string | null;
  trainedTokens: number | null;
  finishedAt: number | null;
  estimatedFinish: number | null;
  resultFiles: string[];
  error: { code: string; message: string; param: string | null } | null;
}

interface Reply {
  status: number;
  /** A JSON value, or a Buffer sent as is (file content). */
  body: unknown;
  headers?: Record<string, string>;
}

interface Injected {
  status: number;
  error: FakeApiError;
  headers: Record<string, string>;
}

const DEFAULT_KEYS = ["sk-test-fineflow"];
const DEFAULT_START = 1_767_225_600;
const MB = 1024 * 1024;
const TERMINAL: JobStatus[] = ["succeeded", "failed", "cancelled"];

export async function startFakeOpenAiFineTuningServer(
  options: FakeFineTuningOptions = {},
): Promise<FakeFineTuningServer> {
  let current: FakeFineTuningOptions = { ...options };
  const contract = loadOpenApiContract(options.specPath ?? OPENAI_REFERENCE, {
    errorSchema: "ErrorResponse",
  });
  let clock = options.startTime ?? DEFAULT_START;
  let seq = 0;
  const files = new Map<string, StoredFile>();
  const jobs = new Map<string, StoredJob>();
  const injected: Injected[] = [];
  const stats: FakeFineTuningStats = { uploads: 0, jobsCreated: 0, cancels: 0, requests: {} };
  const contractViolations: string[] = [];

  const schedule = (): FakeSchedule => ({
    validatingSeconds: 10,
    queuedSeconds: 20,
    secondsPerStep: 1,
    ...current.schedule,
  });
  const nowSeconds = () => Math.floor(clock);

  // ----- the simulated run --------------------------------------------------------------------------

  const emit = (job: StoredJob, at: number, message: string, extra: Partial<StoredEvent> = {}) => {
    job.events.push({
      id: `ftevent-${randomAlphanumeric(24)}`,
      createdAt: Math.floor(at),
      level: "info",
      type: "message",
      message,
      data: {},
      ...extra,
    });
  };

  const finish = (job: StoredJob, at: number, status: "failed" | "succeeded") => {
    job.status = status;
    job.nextAt = null;
    job.finishedAt = Math.floor(at);
  };

  const failJob = (job: StoredJob, at: number, error: NonNullable<StoredJob["error"]>) => {
    job.error = error;
    emit(job, at, error.message, { level: "error" });
    finish(job, at, "failed");
  };

  const validateFiles = (job: StoredJob, at: number) => {
    const training = files.get(job.trainingFile);
    const trainingProblem = training ? checkTrainingContent(training) : "The training file no longer exists.";
    if (trainingProblem) {
      failJob(job, at, {
        code: "invalid_training_file",
        message: `The job failed due to an invalid training file. ${trainingProblem}`,
        param: "training_file",
      });
      return;
    }
    const validation = job.validationFile ? files.get(job.validationFile) : undefined;
    if (job.validationFile) {
      const problem = validation
        ? checkExamples(validation.content.toString("utf8"), 1).problem
        : "Missing file.";
      if (problem) {
        failJob(job, at, {
          code: "invalid_validation_file",
          message: `The job failed due to an invalid validation file. ${problem}`,
          param: "validation_file",
        });
        return;
      }
    }
    const parsed = checkExamples((training as StoredFile).content.toString("utf8"), 1);
    job.examples = parsed.examples;
    job.fileTokens = parsed.tokens;
    job.hyper = resolveHyperparameters(job.hyper, job.examples);
    job.totalSteps = Math.ceil((job.examples * Number(job.hyper.n_epochs)) / Number(job.hyper.batch_size));
    const { queuedSeconds, secondsPerStep } = schedule();
    job.estimatedFinish = Math.floor(at + queuedSeconds + job.totalSteps * secondsPerStep);
    job.status = "queued";
    job.nextAt = at + queuedSeconds;
    emit(job, at, "Files validated, moving job to queued state");
  };

  const checkTrainingContent = (file: StoredFile): string | undefined => {
    const content = file.content.toString("utf8");
    const own = checkExamples(content, current.minExamples ?? 10).problem;
    if (own) return own;
    return current.rejectTrainingFile?.({ id: file.id, filename: file.filename, content });
  };

  const trainStep = (job: StoredJob, at: number) => {
    job.step += 1;
    const step = job.step;
    const metrics = stepMetrics(job, step);
    const withValidation = job.validationFile !== null && isValidationStep(step, job.totalSteps);
    const data: Record<string, number> = {
      step,
      train_loss: metrics.trainLoss,
      total_steps: job.totalSteps,
      train_mean_token_accuracy: metrics.trainAccuracy,
    };
    if (withValidation) {
      data.valid_loss = metrics.validLoss;
      data.valid_mean_token_accuracy = metrics.validAccuracy;
    }
    const validText = withValidation ? `, validation loss=${metrics.validLoss.toFixed(4)}` : "";
    emit(
      job,
      at,
      `Step ${step}/${job.totalSteps}: training loss=${metrics.trainLoss.toFixed(4)}${validText}`,
      {
        type: "metrics",
        data,
      },
    );
    job.metricsRows.push(
      [
        step,
        metrics.trainLoss,
        metrics.trainAccuracy,
        withValidation ? metrics.validLoss : "",
        withValidation ? metrics.validAccuracy : "",
      ].join(","),
    );
    if (job.failAtStep === step) {
      const failure = current.failTraining ?? {};
      failJob(job, at, {
        code: failure.code ?? "server_error",
        message: failure.message ?? "The job failed due to an internal error.",
        param: null,
      });
      return;
    }
    const epochs = Number(job.hyper.n_epochs);
    const epochEnds = Array.from({ length: epochs }, (_, index) =>
      Math.round(((index + 1) * job.totalSteps) / epochs),
    );
    // OpenAI keeps the checkpoints of the last three epochs only.
    if (epochEnds.slice(-3).includes(step)) {
      job.checkpoints.push({
        id: `ftckpt_${randomAlphanumeric(24)}`,
        createdAt: Math.floor(at),
        step,
        metrics: {
          step,
          train_loss: metrics.trainLoss,
          train_mean_token_accuracy: metrics.trainAccuracy,
          valid_loss: metrics.validLoss,
          valid_mean_token_accuracy: metrics.validAccuracy,
          full_valid_loss: metrics.validLoss,
          full_valid_mean_token_accuracy: metrics.validAccuracy,
        },
      });
      emit(job, at, `Checkpoint created at step ${step}`);
    }
    if (step < job.totalSteps) {
      job.nextAt = at + schedule().secondsPerStep;
      return;
    }
    succeed(job, at);
  };

  const succeed = (job: StoredJob, at: number) => {
    const resultCsv = [
      "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy",
      ...job.metricsRows,
    ]
      .join("\n")
      .concat("\n");
    const encoded =
      (current.resultFileEncoding ?? "base64") === "base64"
        ? Buffer.from(Buffer.from(resultCsv).toString("base64"))
        : Buffer.from(resultCsv);
    const result = storeFile(job.project, "step_metrics.csv", "fine-tune-results", encoded, at);
    job.resultFiles = [result.id];
    job.trainedTokens = job.fileTokens * Number(job.hyper.n_epochs);
    job.fineTunedModel = fineTunedModelName(job);
    emit(job, at, "New fine-tuned model created");
    emit(job, at, "The job has successfully completed");
    finish(job, at, "succeeded");
  };

  const fineTunedModelName = (job: StoredJob) => {
    const base = job.model.startsWith("ft:") ? (job.model.split(":")[1] ?? job.model) : job.model;
    const org = current.organizationName ?? "fineflow-test";
    return `ft:${base}:${org}:${job.suffix ?? ""}:${job.id.slice(-8)}`;
  };

  const tickJob = (job: StoredJob, until: number) => {
    while (job.nextAt !== null && job.nextAt <= until) {
      const at = job.nextAt;
      if (job.status === "validating_files") validateFiles(job, at);
      else if (job.status === "queued") {
        job.status = "running";
        job.nextAt = at + schedule().secondsPerStep;
        emit(job, at, "Fine-tuning job started");
      } else if (job.status === "running") trainStep(job, at);
      else job.nextAt = null;
    }
  };

  const advance = (seconds: number) => {
    if (!(seconds >= 0)) throw new Error(`advance() takes seconds >= 0, got ${seconds}`);
    clock += seconds;
    for (const job of jobs.values()) tickJob(job, clock);
  };

  // ----- storage helpers ------------------------------------------------------------------------------

  const storeFile = (project: string, filename: string, purpose: string, content: Buffer, at: number) => {
    const file: StoredFile = {
      id: `file-${randomAlphanumeric(22)}`,
      project,
      filename,
      purpose,
      bytes: content.byteLength,
      createdAt: Math.floor(at),
      content,
      seq: seq++,
    };
    files.set(file.id, file);
    return file;
  };

  const fileJson = (file: StoredFile) => ({
    object: "file",
    id: file.id,
    purpose: file.purpose,
    filename: file.filename,
    bytes: file.bytes,
    created_at: file.createdAt,
    status: "processed",
  });

  const jobJson = (job: StoredJob) => {
    const hyperparameters = { ...job.hyper };
    return {
      object: "fine_tuning.job",
      id: job.id,
      model: job.model,
      created_at: job.createdAt,
      finished_at: job.finishedAt,
      fine_tuned_model: job.fineTunedModel,
      organization_id: orgId(job.project),
      result_files: job.resultFiles,
      status: job.status,
      validation_file: job.validationFile,
      training_file: job.trainingFile,
      hyperparameters,
      trained_tokens: job.trainedTokens,
      error: job.error,
      user_provided_suffix: job.suffix,
      seed: job.seed,
      estimated_finish: job.estimatedFinish,
      integrations: [],
      method: { type: "supervised", supervised: { hyperparameters } },
      metadata: job.metadata,
    };
  };

  const eventJson = (event: StoredEvent) => ({
    object: "fine_tuning.job.event",
    id: event.id,
    created_at: event.createdAt,
    level: event.level,
    message: event.message,
    data: event.data,
    type: event.type,
  });

  const checkpointJson = (job: StoredJob, checkpoint: StoredCheckpoint) => ({
    object: "fine_tuning.job.checkpoint",
    id: checkpoint.id,
    created_at: checkpoint.createdAt,
    fine_tuned_model_checkpoint: `${fineTunedModelName(job)}:ckpt-step-${checkpoint.step}`,
    fine_tuning_job_id: job.id,
    metrics: checkpoint.metrics,
    step_number: checkpoint.step,
  });

  // ----- handlers ---------------------------------------------------------------------------------------

  const handlers: Record<string, (ctx: RequestContext) => Reply | Promise<Reply>> = {
    "POST /files": (ctx) => {
      const form = ctx.form;
      const file = form?.get("file");
      const purpose = String(form?.get("purpose") ?? "");
      if (!(file instanceof Blob)) return invalidRequest("Missing required parameter: 'file'.", "file");
      const filename = (file as File).name ?? "upload";
      const maxBytes = current.maxFileBytes ?? 512 * MB;
      if (file.size > maxBytes) {
        return invalidRequest(
          `File is too large: ${file.size} bytes. The maximum size for a file is ${Math.floor(maxBytes / MB)} MB.`,
          "file",
          "file_too_large",
        );
      }
      if (purpose === "fine-tune" && !filename.toLowerCase().endsWith(".jsonl")) {
        return invalidRequest(
          "Invalid file format for Fine-Tuning API. Must be .jsonl",
          "file",
          "invalid_file_format",
        );
      }
      return (async () => {
        const content = Buffer.from(await file.arrayBuffer());
        const stored = storeFile(ctx.project, filename, purpose, content, clock);
        stats.uploads++;
        return { status: 200, body: fileJson(stored) };
      })();
    },

    "GET /files": (ctx) => {
      const order = ctx.query.get("order") === "asc" ? "asc" : "desc";
      const purpose = ctx.query.get("purpose");
      const mine = [...files.values()]
        .filter((file) => file.project === ctx.project && (!purpose || file.purpose === purpose))
        .sort((a, b) => (a.createdAt - b.createdAt || a.seq - b.seq) * (order === "asc" ? 1 : -1));
      const page = paginate(mine, ctx.query, 10_000);
      const data = page.data.map(fileJson);
      // The reference types first_id/last_id as strings, so an empty page carries "" rather than null.
      return {
        status: 200,
        body: {
          object: "list",
          data,
          first_id: data[0]?.id ?? "",
          last_id: data.at(-1)?.id ?? "",
          has_more: page.hasMore,
        },
      };
    },

    "GET /files/{file_id}": (ctx) => {
      const file = ownFile(ctx);
      return isReply(file) ? file : { status: 200, body: fileJson(file) };
    },

    "DELETE /files/{file_id}": (ctx) => {
      const file = ownFile(ctx);
      if (isReply(file)) return file;
      files.delete(file.id);
      return { status: 200, body: { id: file.id, object: "file", deleted: true } };
    },

    "GET /files/{file_id}/content": (ctx) => {
      const file = ownFile(ctx);
      return isReply(file) ? file : { status: 200, body: file.content };
    },

    "POST /fine_tuning/jobs": (ctx) => createJob(ctx),

    "GET /fine_tuning/jobs": (ctx) => {
      const filter = metadataFilter(ctx.query);
      const mine = [...jobs.values()]
        .filter((job) => job.project === ctx.project && matchesMetadata(job.metadata, filter))
        .sort((a, b) => b.seq - a.seq);
      const page = paginate(mine, ctx.query, 20);
      return { status: 200, body: { object: "list", data: page.data.map(jobJson), has_more: page.hasMore } };
    },

    "GET /fine_tuning/jobs/{fine_tuning_job_id}": (ctx) => {
      const job = ownJob(ctx);
      return isReply(job) ? job : { status: 200, body: jobJson(job) };
    },

    "POST /fine_tuning/jobs/{fine_tuning_job_id}/cancel": (ctx) => {
      const job = ownJob(ctx);
      if (isReply(job)) return job;
      if (TERMINAL.includes(job.status)) {
        return invalidRequest(
          `Cannot cancel a job that has already ${job.status}.`,
          null,
          "invalid_job_status",
        );
      }
      job.status = "cancelled";
      job.nextAt = null;
      emit(job, clock, "Fine-tuning job cancelled");
      stats.cancels++;
      return { status: 200, body: jobJson(job) };
    },

    "POST /fine_tuning/jobs/{fine_tuning_job_id}/pause": (ctx) => {
      const job = ownJob(ctx);
      if (isReply(job)) return job;
      if (job.status !== "running") {
        return invalidRequest(
          `Only a running job can be paused; this one is ${job.status}.`,
          null,
          "invalid_job_status",
        );
      }
      pause(job);
      return { status: 200, body: jobJson(job) };
    },

    "POST /fine_tuning/jobs/{fine_tuning_job_id}/resume": (ctx) => {
      const job = ownJob(ctx);
      if (isReply(job)) return job;
      if (job.status !== "paused") {
        return invalidRequest(
          `Only a paused job can be resumed; this one is ${job.status}.`,
          null,
          "invalid_job_status",
        );
      }
      resume(job);
      return { status: 200, body: jobJson(job) };
    },

    "GET /fine_tuning/jobs/{fine_tuning_job_id}/events": (ctx) => {
      const job = ownJob(ctx);
      if (isReply(job)) return job;
      const newestFirst = [...job.events].reverse();
      const page = paginate(newestFirst, ctx.query, 20);
      return {
        status: 200,
        body: { object: "list", data: page.data.map(eventJson), has_more: page.hasMore },
      };
    },

    "GET /fine_tuning/jobs/{fine_tuning_job_id}/checkpoints": (ctx) => {
      const job = ownJob(ctx);
      if (isReply(job)) return job;
      const newestFirst = [...job.checkpoints].reverse();
      const page = paginate(newestFirst, ctx.query, 10);
      const data = page.data.map((checkpoint) => checkpointJson(job, checkpoint));
      return {
        status: 200,
        body: {
          object: "list",
          data,
          first_id: data[0]?.id ?? null,
          last_id: data.at(-1)?.id ?? null,
          has_more: page.hasMore,
        },
      };
    },
  };

  const pause = (job: StoredJob) => {
    job.status = "paused";
    job.nextAt = null;
    emit(job, clock, "Fine-tuning job paused");
  };

  const resume = (job: StoredJob) => {
    job.status = "running";
    job.nextAt = clock + schedule().secondsPerStep;
    emit(job, clock, "Fine-tuning job resumed");
  };

  const ownFile = (ctx: RequestContext): StoredFile | Reply => {
    const id = ctx.params.file_id ?? "";
    const file = files.get(id);
    if (!file || file.project !== ctx.project) {
      return errorReply(404, {
        message: `No such File object: ${id}`,
        type: "invalid_request_error",
        param: "id",
      });
    }
    return file;
  };

  const ownJob = (ctx: RequestContext): StoredJob | Reply => {
    const id = ctx.params.fine_tuning_job_id ?? "";
    const job = jobs.get(id);
    if (!job || job.project !== ctx.project) {
      return errorReply(404, {
        message: `Could not find fine-tuning job: ${id}`,
        type: "invalid_request_error",
        param: "fine_tuning_job_id",
      });
    }
    return job;
  };

  const createJob = (ctx: RequestContext): Reply => {
    const key = ctx.key;
    const windDown = current.windDownKeys;
    if (windDown === "all" || windDown?.includes(key)) return errorReply(403, WIND_DOWN_ERROR);
    if (current.quotaExceededKeys?.includes(key)) return errorReply(429, QUOTA_ERROR);
    const body = ctx.json as CreateJobBody;
    if (!isFineTunable(body.model)) {
      return invalidRequest(
        `Model ${body.model} is not available for fine-tuning or does not exist.`,
        "model",
        "model_not_available",
      );
    }
    for (const [param, id] of [
      ["training_file", body.training_file],
      ["validation_file", body.validation_file],
    ] as const) {
      if (id === undefined || id === null) continue;
      const file = files.get(id);
      if (!file || file.project !== ctx.project)
        return invalidRequest(`invalid ${param}: ${id}`, param, "invalid_file");
      if (file.purpose !== "fine-tune") {
        return invalidRequest(
          `File ${id} has purpose '${file.purpose}'; fine-tuning needs purpose 'fine-tune'.`,
          param,
          "invalid_file_purpose",
        );
      }
    }
    const requested = body.method?.supervised?.hyperparameters ?? body.hyperparameters ?? {};
    const id = `ftjob-${randomAlphanumeric(24)}`;
    const failure = current.failTraining;
    const job: StoredJob = {
      id,
      project: ctx.project,
      seq: seq++,
      model: body.model,
      trainingFile: body.training_file,
      validationFile: body.validation_file ?? null,
      suffix: body.suffix ?? null,
      metadata: body.metadata ?? null,
      seed: body.seed ?? Math.floor(Math.random() * 2_147_483_647),
      createdAt: nowSeconds(),
      status: "validating_files",
      nextAt: clock + schedule().validatingSeconds,
      hyper: {
        n_epochs: requested.n_epochs ?? "auto",
        batch_size: requested.batch_size ?? "auto",
        learning_rate_multiplier: requested.learning_rate_multiplier ?? "auto",
      },
      examples: 0,
      fileTokens: 0,
      step: 0,
      totalSteps: 0,
      failAtStep: null,
      events: [],
      checkpoints: [],
      metricsRows: [],
      fineTunedModel: null,
      trainedTokens: null,
      finishedAt: null,
      estimatedFinish: null,
      resultFiles: [],
      error: null,
    };
    if (
      failure &&
      (failure.when?.({ id, model: job.model, suffix: job.suffix, metadata: job.metadata }) ?? true)
    ) {
      job.failAtStep = failure.atStep ?? 1;
    }
    jobs.set(id, job);
    stats.jobsCreated++;
    emit(job, clock, `Created fine-tuning job: ${id}`);
    emit(job, clock, `Validating training file: ${job.trainingFile}`);
    if (job.validationFile) emit(job, clock, `Validating validation file: ${job.validationFile}`);
    return { status: 200, body: jobJson(job) };
  };

  // ----- the HTTP side ----------------------------------------------------------------------------------

  const answer = async (req: IncomingMessage, raw: Buffer): Promise<{ reply: Reply; operation?: string }> => {
    const url = req.url ?? "/";
    const method = (req.method ?? "GET").toUpperCase();
    const matched = url.startsWith("/v1/") ? contract.matchOperation(method, url) : undefined;
    const operation = matched ? `${method} ${matched.template}` : undefined;
    if (!matched || !operation || !handlers[operation]) {
      const path = url.split("?")[0];
      return {
        reply: errorReply(404, { message: `Invalid URL (${method} ${path})`, type: "invalid_request_error" }),
      };
    }
    stats.requests[operation] = (stats.requests[operation] ?? 0) + 1;
    const auth = authenticate(req.headers.authorization, current.apiKeys ?? DEFAULT_KEYS);
    if ("reply" in auth) return { reply: auth.reply, operation };
    const injection = injected.shift();
    if (injection)
      return { reply: errorReply(injection.status, injection.error, injection.headers), operation };

    const contentType = req.headers["content-type"] ?? "";
    let json: unknown;
    let form: FormData | undefined;
    let body: unknown;
    if (contentType.startsWith("multipart/form-data")) {
      try {
        form = await new Response(new Uint8Array(raw), {
          headers: { "content-type": contentType },
        }).formData();
      } catch {
        return { reply: invalidRequest("Could not parse multipart form data.", null), operation };
      }
      body = Object.fromEntries(form.entries());
    } else if (raw.length > 0) {
      try {
        json = JSON.parse(raw.toString("utf8"));
      } catch {
        return {
          reply: invalidRequest(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            null,
          ),
          operation,
        };
      }
      body = json;
    }
    const violations = contract.inspectRequest({
      method,
      path: url,
      body,
      contentType: contentType || undefined,
    });
    const first = violations[0];
    if (first) return { reply: violationReply(first), operation };
    const query = new URLSearchParams(url.split("?")[1] ?? "");
    const ctx: RequestContext = {
      key: auth.key,
      project: projectOf(auth.key),
      params: matched.params,
      query,
      json,
      form,
    };
    return {
      reply: await (handlers[operation] as (ctx: RequestContext) => Reply | Promise<Reply>)(ctx),
      operation,
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    const { reply, operation } = await answer(req, raw);
    if ((current.strict ?? true) && operation) recordContract(req, reply);
    const isBuffer = Buffer.isBuffer(reply.body);
    res.writeHead(reply.status, {
      "content-type": isBuffer ? "application/octet-stream" : "application/json",
      "x-request-id": `req_${randomBytes(16).toString("hex")}`,
      "openai-version": "2020-10-01",
      "openai-processing-ms": "1",
      ...reply.headers,
    });
    res.end(isBuffer ? reply.body : JSON.stringify(reply.body));
  };

  const recordContract = (req: IncomingMessage, reply: Reply) => {
    const method = (req.method ?? "GET").toUpperCase();
    const path = req.url ?? "/";
    // File content goes out as bytes; the reference describes it as a JSON string, so check it as one.
    const body = Buffer.isBuffer(reply.body) ? reply.body.toString("utf8") : reply.body;
    const found = contract
      .inspectResponse({ method, path, status: reply.status, body })
      .filter((violation) => !isKnownSpecGap(violation, body));
    for (const violation of found) {
      contractViolations.push(`${method} ${path.split("?")[0]} → ${reply.status}: ${describe(violation)}`);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      const message = `The fake failed: ${error instanceof Error ? error.message : String(error)}`;
      res.end(JSON.stringify({ error: { message, type: "server_error", param: null, code: null } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  const findJob = (jobId: string) => {
    const job = jobs.get(jobId);
    if (!job) throw new Error(`no job ${jobId} in the fake`);
    return job;
  };

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    stats,
    contractViolations,
    now: () => clock,
    advance,
    runToEnd(jobId) {
      const job = findJob(jobId);
      const start = clock;
      while (job.nextAt !== null) advance(Math.max(0, job.nextAt - clock));
      return clock - start;
    },
    pauseJob(jobId) {
      const job = findJob(jobId);
      if (job.status !== "running") throw new Error(`job ${jobId} is ${job.status}, not running`);
      pause(job);
    },
    resumeJob(jobId) {
      const job = findJob(jobId);
      if (job.status !== "paused") throw new Error(`job ${jobId} is ${job.status}, not paused`);
      resume(job);
    },
    rateLimitNext(count = 1, retryAfterSeconds = 1) {
      for (let index = 0; index < count; index++) {
        injected.push({
          status: 429,
          error: RATE_LIMIT_ERROR(retryAfterSeconds),
          headers: rateLimitHeaders(retryAfterSeconds),
        });
      }
    },
    failNext(count, status, error = SERVER_ERROR, headers = {}) {
      for (let index = 0; index < count; index++) injected.push({ status, error, headers });
    },
    setOptions(patch) {
      current = { ...current, ...patch };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Requests

interface RequestContext {
  key: string;
  project: string;
  params: Record<string, string>;
  query: URLSearchParams;
  json: unknown;
  form: FormData | undefined;
}

interface CreateJobBody {
  model: string;
  training_file: string;
  validation_file?: string | null;
  suffix?: string | null;
  seed?: number | null;
  metadata?: Record<string, string> | null;
  hyperparameters?: Partial<FakeHyperparameters>;
  method?: { type: string; supervised?: { hyperparameters?: Partial<FakeHyperparameters> } };
}

function isFineTunable(model: string): boolean {
  return FINE_TUNABLE_MODELS.some((base) => model === base || model.startsWith(`ft:${base}:`));
}

/** OpenAI's `auto`: 3 epochs, more for tiny files and fewer for huge ones; batch 1; multiplier 1.8. */
export function resolveHyperparameters(
  requested: FakeHyperparameters,
  examples: number,
): FakeHyperparameters {
  let epochs = 3;
  if (examples * 3 < 100) epochs = Math.min(25, Math.floor(100 / Math.max(1, examples)));
  else if (examples * 3 > 25_000) epochs = Math.max(1, Math.floor(25_000 / examples));
  return {
    n_epochs: requested.n_epochs === "auto" ? epochs : requested.n_epochs,
    batch_size: requested.batch_size === "auto" ? 1 : requested.batch_size,
    learning_rate_multiplier:
      requested.learning_rate_multiplier === "auto" ? 1.8 : requested.learning_rate_multiplier,
  };
}

const CHAT_ROLES = new Set(["system", "developer", "user", "assistant", "tool", "function"]);

/** OpenAI's chat fine-tuning format: one JSON object per line with a `messages` array ending in an answer. */
function checkExamples(
  content: string,
  minExamples: number,
): { problem?: string; examples: number; tokens: number } {
  const lines = content.split("\n").filter((line) => line.trim() !== "");
  let tokens = 0;
  for (const [index, line] of lines.entries()) {
    const at = `Line ${index + 1}`;
    let example: unknown;
    try {
      example = JSON.parse(line);
    } catch {
      return { problem: `Invalid file format. ${at} is not valid JSON.`, examples: 0, tokens: 0 };
    }
    const messages = (example as { messages?: unknown } | null)?.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      return {
        problem: `Invalid file format. ${at}, key "messages": missing or empty.`,
        examples: 0,
        tokens: 0,
      };
    }
    for (const [position, message] of messages.entries()) {
      const role = (message as { role?: unknown } | null)?.role;
      if (typeof role !== "string" || !CHAT_ROLES.has(role)) {
        return {
          problem: `Invalid file format. ${at}, message ${position + 1}: unknown role.`,
          examples: 0,
          tokens: 0,
        };
      }
      const text = (message as { content?: unknown }).content;
      tokens += 3 + (typeof text === "string" ? countTokens(text) : 0);
    }
    if (!messages.some((message) => (message as { role?: unknown }).role === "assistant")) {
      return {
        problem: `Invalid file format. ${at}: no assistant message to learn from.`,
        examples: 0,
        tokens: 0,
      };
    }
    tokens += 3;
  }
  if (lines.length < minExamples) {
    return {
      problem: `Training file has ${lines.length} example(s), but must have at least ${minExamples} examples`,
      examples: lines.length,
      tokens,
    };
  }
  return { examples: lines.length, tokens };
}

/** `limit` items after the `after` cursor (an item id), in the order given. */
function paginate<T extends { id: string }>(items: T[], query: URLSearchParams, defaultLimit: number) {
  const limit = Number(query.get("limit") ?? defaultLimit);
  const after = query.get("after");
  const start = after ? items.findIndex((item) => item.id === after) + 1 : 0;
  const data = items.slice(start, start + limit);
  return { data, hasMore: start + limit < items.length };
}

/** `metadata[k]=v` pairs, or null for `metadata=null` (jobs without metadata), or undefined. */
function metadataFilter(query: URLSearchParams): Record<string, string> | null | undefined {
  if (query.get("metadata") === "null") return null;
  let filter: Record<string, string> | undefined;
  for (const [name, value] of query) {
    const key = /^metadata\[(.+)\]$/.exec(name)?.[1];
    if (key !== undefined) {
      filter ??= {};
      filter[key] = value;
    }
  }
  return filter;
}

function matchesMetadata(
  metadata: Record<string, string> | null,
  filter: Record<string, string> | null | undefined,
) {
  if (filter === undefined) return true;
  if (filter === null) return metadata === null || Object.keys(metadata).length === 0;
  return Object.entries(filter).every(([key, value]) => metadata?.[key] === value);
}

// ---------------------------------------------------------------------------------------------------
// Answers

const WIND_DOWN_ERROR: FakeApiError = {
  message:
    "Fine-tuning is not available for your organization: OpenAI is winding down self-serve fine-tuning. Existing fine-tuned models remain available for inference.",
  type: "invalid_request_error",
  code: "fine_tuning_not_available",
  param: null,
};

const QUOTA_ERROR: FakeApiError = {
  message:
    "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
  type: "insufficient_quota",
  code: "insufficient_quota",
  param: null,
};

const SERVER_ERROR: FakeApiError = {
  message:
    "The server had an error while processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if the error persists.",
  type: "server_error",
};

const RATE_LIMIT_ERROR = (retryAfterSeconds: number): FakeApiError => ({
  message: `Rate limit reached for requests in organization org-fineflowfake on requests per min (RPM): Limit 60, Used 60, Requested 1. Please try again in ${retryAfterSeconds}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
  type: "requests",
  code: "rate_limit_exceeded",
  param: null,
});

function rateLimitHeaders(retryAfterSeconds: number): Record<string, string> {
  return {
    "retry-after": String(Math.ceil(retryAfterSeconds)),
    "retry-after-ms": String(Math.round(retryAfterSeconds * 1000)),
    "x-ratelimit-limit-requests": "60",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": `${retryAfterSeconds}s`,
  };
}

function isReply(value: object): value is Reply {
  return "body" in value;
}

function errorReply(status: number, error: FakeApiError, headers: Record<string, string> = {}): Reply {
  return {
    status,
    body: {
      error: {
        message: error.message,
        type: error.type,
        param: error.param ?? null,
        code: error.code ?? null,
      },
    },
    headers,
  };
}

function invalidRequest(message: string, param: string | null, code: string | null = null): Reply {
  return errorReply(400, { message, type: "invalid_request_error", param, code });
}

/** A contract fault in OpenAI's words: missing, unknown, mistyped or out-of-range parameters. */
function violationReply(violation: ContractViolation): Reply {
  const param = violation.param;
  if (!param) return invalidRequest(`Invalid request: ${violation.message}.`, null, "invalid_request");
  if (violation.message === "is required") {
    return invalidRequest(`Missing required parameter: '${param}'.`, param, "missing_required_parameter");
  }
  if (violation.message === "is not a recognised field") {
    return invalidRequest(`Unrecognized request argument supplied: ${param}`, param, "unknown_parameter");
  }
  const code = /^must be (string|integer|number|boolean|object|array|null)\b/.test(violation.message)
    ? "invalid_type"
    : "invalid_value";
  return invalidRequest(`Invalid '${param}': ${violation.message}.`, param, code);
}

function authenticate(authorization: string | undefined, keys: string[]): { key: string } | { reply: Reply } {
  const key = authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
  if (!key) {
    return {
      reply: errorReply(401, {
        message:
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        type: "invalid_request_error",
      }),
    };
  }
  if (keys.includes(key)) return { key };
  const masked = key.length > 8 ? `${key.slice(0, 3)}***${key.slice(-4)}` : "***";
  return {
    reply: errorReply(401, {
      message: `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      type: "invalid_request_error",
      code: "invalid_api_key",
    }),
  };
}

/**
 * The reference's FineTuningJob status enum lacks `paused`, though its own pause example answers with
 * it and the live API sends it: not a fault of the fake.
 */
function isKnownSpecGap(violation: ContractViolation, body: unknown): boolean {
  return violation.param === "status" && (body as { status?: unknown } | null)?.status === "paused";
}

function describe(violation: ContractViolation): string {
  return `${violation.param ?? "(body)"} ${violation.message}`;
}

function projectOf(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 12);
}

function orgId(project: string): string {
  return `org-${project}`;
}

// ---------------------------------------------------------------------------------------------------
// Simulated metrics: a loss that falls with progress plus seeded noise, so runs are repeatable.

interface Metrics {
  trainLoss: number;
  trainAccuracy: number;
  validLoss: number;
  validAccuracy: number;
}

function stepMetrics(job: { seed: number; totalSteps: number }, step: number): Metrics {
  const random = seededRandom(job.seed * 7919 + step);
  const progress = step / Math.max(1, job.totalSteps);
  const decay = Math.exp(-3 * progress);
  const noise = (random() - 0.5) * 0.1;
  const round = (value: number) => Math.round(value * 10_000) / 10_000;
  const trainLoss = round(Math.max(0.01, 0.3 + 2.2 * decay + noise));
  const trainAccuracy = round(Math.min(1, Math.max(0, 0.45 + 0.5 * (1 - decay) + noise / 2)));
  return {
    trainLoss,
    trainAccuracy,
    validLoss: round(trainLoss + 0.08 + random() * 0.04),
    validAccuracy: round(Math.max(0, trainAccuracy - 0.03)),
  };
}

function isValidationStep(step: number, totalSteps: number): boolean {
  const every = Math.max(1, Math.floor(totalSteps / 10));
  return step % every === 0 || step === totalSteps;
}

// ---------------------------------------------------------------------------------------------------
// Plumbing

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function randomAlphanumeric(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join("");
}
