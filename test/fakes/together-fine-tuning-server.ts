import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { loadOpenApiContract } from "./openapi-contract.js";

/**
 * A local double of Together AI's files and fine-tuning API, faithful to
 * /work/shared/reference/together/openapi.yaml: every request is checked against the spec (a
 * non-conforming one gets 400 naming the field), and every response the double sends is checked too
 * (faults land in `contractViolations`), so the real `together-ai` SDK and the adapter built on it
 * meet the shapes, statuses and errors of production.
 *
 * Time is simulated: jobs move only when a test calls `advance(seconds)`. The timeline of a job with
 * N steps (N = ceil(examples / batch_size) × n_epochs, one step per simulated second), from creation:
 *
 *   t = 0           pending       job_pending
 *   t = 1           queued
 *   t = 3           running       job_start, model_download*, training_data_download*, (validation_data_*),
 *                                 training_start — or job_error + `error` when the training file is invalid
 *   t = 3 + s       step s        metrics row (train/loss, train/learning_rate); eval/loss at n_evals
 *                                 points; epoch_complete; checkpoint_save at n_checkpoints - 1 points
 *   t = 3 + N       compressing   training_complete, model_compressing
 *   t = 4 + N       uploading     model_compression_complete, model_uploading
 *   t = 5 + N       completed     model_upload_complete, job_complete, final checkpoint
 *
 * (stage lengths are options). Cancelling moves a running job to `cancel_requested`, and one simulated
 * second later to `cancelled` (job_stopped, refund). Prices: token_count and total_price (nanodollars, as
 * Together reports them) appear once the data is "tokenized" at the start of `running`; a job stopped
 * early is charged for the steps it ran.
 *
 * Beyond the spec, the double also serves the three-step upload that `client.files.upload()` of
 * together-ai 0.52 performs: POST {TOGETHER_API_BASE_URL}/files?file_name&file_type&purpose → 302 to a
 * presigned URL (header x-together-file-id) → PUT the bytes there → GET /files/{id}. That SDK function
 * ignores the client's baseURL, so a test must set TOGETHER_API_BASE_URL to `baseURL` before it loads.
 */

export const TOGETHER_REFERENCE = "/work/shared/reference/together/openapi.yaml";
/** The key the double accepts when no `apiKeys` are given: obviously fake. */
export const FAKE_TOGETHER_KEY = "fake-together-key-000000000000";

export interface FakeTogetherModel {
  /** Together's published LoRA SFT price for the model's size class, USD per 1M tokens. */
  usdPerMillionTokens: number;
  paramCount: number;
  minBatchSize: number;
  /** What `batch_size: "max"` resolves to. */
  maxBatchSize: number;
}

/** A few models Together fine-tunes, with its LoRA SFT prices (up to 16B: $0.48, 70B class: $2.90). */
export const FAKE_TOGETHER_MODELS: Record<string, FakeTogetherModel> = {
  "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference": {
    usdPerMillionTokens: 0.48,
    paramCount: 8_030_261_248,
    minBatchSize: 8,
    maxBatchSize: 32,
  },
  "Qwen/Qwen2.5-7B-Instruct": {
    usdPerMillionTokens: 0.48,
    paramCount: 7_615_616_512,
    minBatchSize: 8,
    maxBatchSize: 32,
  },
  "meta-llama/Llama-3.3-70B-Instruct-Reference": {
    usdPerMillionTokens: 2.9,
    paramCount: 70_553_706_496,
    minBatchSize: 8,
    maxBatchSize: 16,
  },
};

export interface FakeJobInfo {
  id: string;
  model: string;
  trainingFile: string;
  suffix?: string;
  totalSteps: number;
}

export interface FakeTogetherOptions {
  /** Keys that authenticate; any other (or none) gets Together's 401 invalid_api_key. */
  apiKeys?: string[];
  /** Keys of accounts without credit: job creation gets 402, estimates say `allowed_to_proceed: false`. */
  noCreditKeys?: string[];
  /** Base models open to fine-tuning; anything else gets a 400 on `model`. */
  models?: Record<string, FakeTogetherModel>;
  /**
   * Rejects a training file at the job's data-validation stage (the job ends in `error` with this
   * message). Files that break the JSONL rules are rejected whatever this says.
   */
  rejectFile?: (file: { id: string; filename: string; content: string }) => string | undefined;
  /** Fails a running job before step `atStep` (default 1) completes, when `when` (default: every job) says so. */
  failTraining?: { atStep?: number; message?: string; when?: (job: FakeJobInfo) => boolean };
  /** Simulated seconds spent in the stages around training. */
  stageSeconds?: Partial<Record<"pending" | "queued" | "compressing" | "uploading", number>>;
  /** Record the double's own non-conforming responses in `contractViolations` (default true). */
  strict?: boolean;
  /** Simulated start, unix seconds; default 2026-01-01T00:00:00Z. */
  startTime?: number;
}

export interface FakeTogetherCounters {
  /** Files stored, by either upload flow. */
  uploads: number;
  /** Jobs created (rejected creations not counted). */
  jobCreations: number;
  /** Accepted cancel calls. */
  cancels: number;
  /** Every request, by "METHOD /spec-template" (e.g. "GET /fine-tunes/{id}"). */
  requests: Record<string, number>;
}

export interface FakeTogetherServer {
  /** http://127.0.0.1:port */
  url: string;
  /** What the SDK takes as `baseURL` (`url` + "/v1"). */
  baseURL: string;
  counters: FakeTogetherCounters;
  /** Readable faults of the double's own responses against the spec (strict mode). */
  contractViolations: string[];
  /** Simulated now, unix seconds. */
  now(): number;
  /** Moves simulated time forward by whole seconds; jobs advance one tick per second. */
  advance(seconds: number): void;
  /** Advances until the job is completed, cancelled or in error; returns the seconds advanced. */
  runToEnd(jobId: string): number;
  /** The next `count` authenticated requests get 429 with retry-after and x-ratelimit-* headers. */
  rateLimitNext(count?: number, retryAfterSeconds?: number): void;
  /** The next `count` authenticated requests get this status (e.g. 500, 503) in Together's envelope. */
  failNext(count: number, status: number, message?: string): void;
  setOptions(patch: Partial<FakeTogetherOptions>): void;
  close(): Promise<void>;
}

type Json = unknown;
type JsonObject = Record<string, Json>;

interface Reply {
  status: number;
  body?: Json;
  headers?: Record<string, string>;
}

/** An authenticated request that conforms to the spec, ready for its handler. */
interface RoutedRequest {
  /** The caller's key: each key is its own account. */
  owner: string;
  method: string;
  template: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: JsonObject;
  /** Text of multipart file parts, by field name. */
  texts: Record<string, string>;
}

interface FileCheck {
  valid: boolean;
  error?: string;
  format?: "conversation" | "general" | "instruction";
  lines: number;
  tokens: number;
}

interface StoredFile {
  id: string;
  owner: string;
  filename: string;
  purpose: string;
  fileType: string;
  bytes: number;
  createdAt: number;
  content: string;
  check: FileCheck;
}

const TERMINAL = new Set(["completed", "cancelled", "error"]);
const EVENT_TYPES_WITH_STEP = new Set([
  "checkpoint_save",
  "epoch_complete",
  "training_complete",
  "job_error",
]);

interface Job {
  id: string;
  owner: string;
  model: string;
  spec: FakeTogetherModel;
  trainingFile: StoredFile;
  validationFile?: StoredFile;
  suffix?: string;
  outputName: string;
  nEpochs: number;
  nCheckpoints: number;
  nEvals: number;
  batchSize: number;
  learningRate: number;
  status: string;
  createdAt: number;
  updatedAt: number;
  startedAt: number;
  /** Seconds left in the current non-training stage. */
  stageLeft: number;
  stepsPerEpoch: number;
  totalSteps: number;
  step: number;
  tokenCount?: number;
  /** The full run's price, nanodollars; charged in proportion to steps run when stopped early. */
  fullPriceNano?: number;
  totalPriceNano?: number;
  failure?: { atStep: number; message: string };
  events: JsonObject[];
  checkpoints: JsonObject[];
  metrics: Record<string, number>[];
}

/** Spec faults the double cannot avoid without being less like Together; each one says why. */
const KNOWN_SPEC_DEFECTS = [
  // FinetuneResponse.id says `format: uuid`, but the same spec (and Together) give ids as `ft-<uuid>`.
  { template: "/fine-tunes/{id}", violation: 'response id: must match format "uuid"' },
];

const DEFAULT_FAILURE = "Training failed: CUDA error: an illegal memory access was encountered";
const DEFAULT_STAGES = { pending: 1, queued: 2, compressing: 1, uploading: 1 };

export async function startFakeTogetherServer(
  options: FakeTogetherOptions = {},
): Promise<FakeTogetherServer> {
  let current: FakeTogetherOptions = { ...options };
  const contract = loadOpenApiContract(TOGETHER_REFERENCE, { errorSchema: "ErrorData" });
  let clock = (options.startTime ?? Date.UTC(2026, 0, 1) / 1000) * 1000;
  const files = new Map<string, StoredFile>();
  const jobs = new Map<string, Job>();
  const pendingUploads = new Map<
    string,
    Omit<StoredFile, "bytes" | "content" | "check"> & { token: string }
  >();
  const counters: FakeTogetherCounters = { uploads: 0, jobCreations: 0, cancels: 0, requests: {} };
  const contractViolations: string[] = [];
  let injected: { count: number; reply: () => Reply } | undefined;
  /** Set once listening; the presigned upload URLs point here. */
  let origin = "";

  const seconds = () => Math.floor(clock / 1000);
  const advance = (by: number) => {
    if (!Number.isInteger(by) || by < 0) throw new Error(`advance() takes whole seconds >= 0, got ${by}`);
    for (let second = 0; second < by; second++) {
      clock += 1000;
      for (const job of jobs.values()) tick(job);
    }
  };
  const iso = () => new Date(clock).toISOString();
  const models = () => current.models ?? FAKE_TOGETHER_MODELS;
  const stage = (name: keyof typeof DEFAULT_STAGES) => current.stageSeconds?.[name] ?? DEFAULT_STAGES[name];
  const accountOf = (key: string) => {
    const keys = [...(current.apiKeys ?? [FAKE_TOGETHER_KEY]), ...(current.noCreditKeys ?? [])];
    return `fineflow-fake-${keys.indexOf(key)}`;
  };

  // -------------------------------------------------------------------------------------------------
  // Files

  const storeFile = (record: Omit<StoredFile, "bytes" | "check">): StoredFile => {
    const check = checkJsonl(record.content);
    const rejection = check.valid
      ? current.rejectFile?.({ id: record.id, filename: record.filename, content: record.content })
      : undefined;
    const file: StoredFile = {
      ...record,
      bytes: Buffer.byteLength(record.content),
      check: rejection ? { ...check, valid: false, error: rejection } : check,
    };
    files.set(file.id, file);
    counters.uploads++;
    return file;
  };

  const fileView = (file: StoredFile) => ({
    id: file.id,
    object: "file",
    created_at: file.createdAt,
    filename: file.filename,
    bytes: file.bytes,
    purpose: file.purpose,
    FileType: file.fileType,
    Processed: true,
    // Not in the reference spec but sent by Together today (together-ai 0.52 types them).
    processing_status: file.check.valid ? "COMPLETED" : "INVALID_FORMAT",
    validation_report: {
      valid: file.check.valid,
      file_id: file.id,
      nlines: file.check.lines,
      ...(file.check.format ? { dataset_format: file.check.format.toUpperCase() } : {}),
      ...(file.check.valid ? {} : { error: file.check.error, error_type: "INVALID_FORMAT" }),
    },
  });

  const uploadMultipart = (owner: string, fields: JsonObject, texts: Record<string, string>): Reply => {
    const content = texts.file ?? String(fields.file);
    const stored = storeFile({
      id: `file-${randomUUID()}`,
      owner,
      filename: String(fields.file_name),
      purpose: String(fields.purpose),
      fileType: String(fields.file_type ?? "jsonl"),
      createdAt: seconds(),
      content,
    });
    return { status: 200, body: fileView(stored) };
  };

  /** Step 1 of the SDK's upload: answer with a presigned URL, as Together does (to S3). */
  const startRedirectUpload = (owner: string, query: URLSearchParams): Reply => {
    const purpose = query.get("purpose") ?? "";
    const fileType = query.get("file_type") ?? "";
    const fileName = query.get("file_name") ?? "";
    const bad = !fileName
      ? "file_name"
      : !["fine-tune", "eval", "batch-api"].includes(purpose)
        ? "purpose"
        : !["jsonl", "csv", "parquet"].includes(fileType)
          ? "file_type"
          : undefined;
    if (bad) return invalidRequest(`Invalid or missing '${bad}'`, bad);
    const id = `file-${randomUUID()}`;
    const token = randomBytes(16).toString("hex");
    pendingUploads.set(id, { id, owner, filename: fileName, purpose, fileType, createdAt: seconds(), token });
    return {
      status: 302,
      headers: {
        location: `${origin}/__storage/${id}?X-Amz-Signature=${token}`,
        "x-together-file-id": id,
      },
    };
  };

  /** Step 2: the presigned PUT carries no Authorization, only the signature in the URL. */
  const finishRedirectUpload = (id: string, query: URLSearchParams, content: string): Reply => {
    const pending = pendingUploads.get(id);
    if (!pending || query.get("X-Amz-Signature") !== pending.token) {
      return { status: 403, body: { error: { message: "Signature does not match", type: "forbidden" } } };
    }
    pendingUploads.delete(id);
    const { token: _token, ...record } = pending;
    storeFile({ ...record, content });
    return { status: 200 };
  };

  // -------------------------------------------------------------------------------------------------
  // Jobs

  const addEvent = (job: Job, type: string, message: string, extra: JsonObject = {}) => {
    const index = job.events.length;
    job.events.push({
      object: "fine-tune-event",
      created_at: iso(),
      level: type === "job_error" ? "error" : type === "warning" ? "warning" : "info",
      message,
      type,
      param_count: job.spec.paramCount,
      token_count: job.tokenCount ?? 0,
      total_steps: job.totalSteps,
      wandb_url: "",
      step: EVENT_TYPES_WITH_STEP.has(type) ? job.step : 0,
      checkpoint_path: "",
      model_path: "",
      training_offset: 0,
      hash: createHash("sha256").update(`${job.id}:${index}`).digest("hex").slice(0, 32),
      ...extra,
    });
  };

  const setStatus = (job: Job, status: string, stageLeft = 0) => {
    job.status = status;
    job.stageLeft = stageLeft;
    job.updatedAt = clock;
    job.startedAt = clock;
  };

  const createJob = (owner: string, body: JsonObject): Reply => {
    const model = String(body.model);
    const spec = models()[model];
    if (!spec) {
      return invalidRequest(
        `Model ${model} is not available for fine-tuning. See https://docs.together.ai/docs/fine-tuning-models for the supported models.`,
        "model",
        "model_not_available",
      );
    }
    const trainingFile = ownFile(owner, body.training_file);
    if (!trainingFile) return invalidRequest(`File ${String(body.training_file)} not found`, "training_file");
    const validationFile =
      body.validation_file === undefined ? undefined : ownFile(owner, body.validation_file);
    if (body.validation_file !== undefined && !validationFile) {
      return invalidRequest(`File ${String(body.validation_file)} not found`, "validation_file");
    }
    const nEpochs = (body.n_epochs as number | undefined) ?? 1;
    const nEvals = (body.n_evals as number | undefined) ?? 0;
    const nCheckpoints = (body.n_checkpoints as number | undefined) ?? 1;
    const batchSize =
      body.batch_size === undefined || body.batch_size === "max" ? spec.maxBatchSize : body.batch_size;
    const learningRate = (body.learning_rate as number | undefined) ?? 0.00001;
    const suffix = body.suffix as string | undefined;
    if (nEpochs < 1 || nEpochs > 20) return invalidRequest("n_epochs must be between 1 and 20", "n_epochs");
    if (nCheckpoints < 1) return invalidRequest("n_checkpoints must be at least 1", "n_checkpoints");
    if (nEvals < 0 || (nEvals > 0 && !validationFile)) {
      return invalidRequest("n_evals needs a validation_file and must not be negative", "n_evals");
    }
    if (typeof batchSize !== "number" || batchSize < spec.minBatchSize || batchSize > spec.maxBatchSize) {
      return invalidRequest(
        `batch_size must be between ${spec.minBatchSize} and ${spec.maxBatchSize} for ${model}`,
        "batch_size",
      );
    }
    if (!(learningRate > 0 && learningRate <= 1)) {
      return invalidRequest("learning_rate must be greater than 0 and at most 1", "learning_rate");
    }
    if (suffix !== undefined && (suffix.length > 64 || !/^[\w.-]*$/.test(suffix))) {
      return invalidRequest("suffix must be at most 64 letters, digits, '-', '_' or '.'", "suffix");
    }
    if ((current.noCreditKeys ?? []).includes(owner)) return noCredit();

    const id = `ft-${randomUUID()}`;
    const stepsPerEpoch = Math.max(1, Math.ceil(trainingFile.check.lines / batchSize));
    const job: Job = {
      id,
      owner,
      model,
      spec,
      trainingFile,
      validationFile,
      suffix,
      outputName: `${accountOf(owner)}/${model.split("/").at(-1)}-${suffix ? `${suffix}-` : ""}${id.slice(3, 11)}`,
      nEpochs,
      nCheckpoints,
      nEvals,
      batchSize,
      learningRate,
      status: "pending",
      createdAt: clock,
      updatedAt: clock,
      startedAt: clock,
      stageLeft: stage("pending"),
      stepsPerEpoch,
      totalSteps: stepsPerEpoch * nEpochs,
      step: 0,
      events: [],
      checkpoints: [],
      metrics: [],
    };
    const failure = current.failTraining;
    const info = { id, model, trainingFile: trainingFile.id, suffix, totalSteps: job.totalSteps };
    if (failure && (failure.when?.(info) ?? true)) {
      job.failure = { atStep: failure.atStep ?? 1, message: failure.message ?? DEFAULT_FAILURE };
    }
    addEvent(job, "job_pending", "Fine tune request created");
    jobs.set(id, job);
    counters.jobCreations++;
    return { status: 200, body: truncatedView(job) };
  };

  const ownFile = (owner: string, id: Json) => {
    const file = files.get(String(id));
    return file && file.owner === owner && file.purpose === "fine-tune" ? file : undefined;
  };

  /** Data download, validation and tokenization, as Together runs them when a job starts. */
  const startRunning = (job: Job) => {
    setStatus(job, "running");
    const at = new Date(clock).toUTCString();
    addEvent(job, "job_start", `Job started at ${at}`);
    addEvent(job, "model_downloading", `Downloading model data for ${job.model}`);
    addEvent(job, "model_download_complete", `Model data downloaded for ${job.model} at ${at}`);
    addEvent(job, "training_data_downloading", `Downloading training data for ${job.model}`);
    addEvent(job, "training_data_download_complete", `Training data downloaded for ${job.model} at ${at}`);
    if (job.validationFile) {
      addEvent(job, "validation_data_downloading", `Downloading validation data for ${job.model}`);
      addEvent(
        job,
        "validation_data_download_complete",
        `Validation data downloaded for ${job.model} at ${at}`,
      );
    }
    const invalid = [job.trainingFile, job.validationFile].find((file) => file && !file.check.valid);
    if (invalid) {
      addEvent(job, "job_error", `Invalid file ${invalid.id}: ${invalid.check.error}`);
      setStatus(job, "error");
      job.totalPriceNano = 0;
      return;
    }
    const tokens =
      job.nEpochs * job.trainingFile.check.tokens + job.nEvals * (job.validationFile?.check.tokens ?? 0);
    job.tokenCount = tokens;
    job.fullPriceNano = Math.round(tokens * job.spec.usdPerMillionTokens * 1000);
    job.totalPriceNano = job.fullPriceNano;
    addEvent(job, "training_start", `Training started for model ${job.model}`);
  };

  const trainStep = (job: Job) => {
    const next = job.step + 1;
    if (job.failure && next >= Math.min(Math.max(1, job.failure.atStep), job.totalSteps)) {
      addEvent(job, "job_error", job.failure.message);
      stopEarly(job, "error");
      return;
    }
    job.step = next;
    job.updatedAt = clock;
    const loss = trainLoss(next, job.totalSteps);
    job.metrics.push({
      "train/global_step": next,
      "train/epoch": next / job.stepsPerEpoch,
      "train/loss": loss,
      "train/learning_rate": job.learningRate * (1 - (next - 1) / job.totalSteps),
    });
    if (spread(job.nEvals, job.totalSteps, true).includes(next)) {
      job.metrics.push({ "train/global_step": next, "eval/loss": round4(loss + 0.08) });
    }
    if (next % job.stepsPerEpoch === 0) addEvent(job, "epoch_complete", `Epoch completed, at step ${next}`);
    if (spread(job.nCheckpoints - 1, job.totalSteps, false).includes(next)) {
      const path = `s3://together-fake-finetune/${job.id}/checkpoints/step-${next}`;
      job.checkpoints.push({ step: next, path, created_at: iso(), checkpoint_type: "Intermediate" });
      addEvent(job, "checkpoint_save", `New checkpoint saved at step ${next}`, { checkpoint_path: path });
    }
    if (next === job.totalSteps) {
      addEvent(
        job,
        "training_complete",
        `Training completed for ${job.model} at ${new Date(clock).toUTCString()}`,
      );
      setStatus(job, "compressing", stage("compressing"));
      addEvent(job, "model_compressing", "Compressing output model");
    }
  };

  /** Cancelled or failed: Together charges the steps that ran and refunds the rest. */
  const stopEarly = (job: Job, status: "cancelled" | "error") => {
    setStatus(job, status);
    if (job.fullPriceNano === undefined) return;
    job.totalPriceNano = Math.round((job.fullPriceNano * job.step) / job.totalSteps);
    const refund = job.fullPriceNano - job.totalPriceNano;
    if (refund > 0) {
      const dollars = (refund / 1e9).toFixed(6);
      addEvent(job, "refund", `Refund of $${dollars} for ${job.totalSteps - job.step} steps not run`);
    }
  };

  const tick = (job: Job) => {
    if (TERMINAL.has(job.status)) return;
    if (job.status === "cancel_requested") {
      addEvent(job, "job_stopped", "Job was stopped");
      stopEarly(job, "cancelled");
      return;
    }
    if (job.status === "running") {
      trainStep(job);
      return;
    }
    job.stageLeft--;
    if (job.stageLeft > 0) return;
    if (job.status === "pending") setStatus(job, "queued", stage("queued"));
    else if (job.status === "queued") startRunning(job);
    else if (job.status === "compressing") {
      addEvent(job, "model_compression_complete", "Model compression complete");
      setStatus(job, "uploading", stage("uploading"));
      addEvent(job, "model_uploading", `Uploading output model to ${job.outputName}`);
    } else if (job.status === "uploading") {
      addEvent(job, "model_upload_complete", "Model upload complete");
      setStatus(job, "completed");
      job.checkpoints.push({
        step: job.totalSteps,
        path: `s3://together-fake-finetune/${job.id}/final`,
        created_at: iso(),
        checkpoint_type: "Final",
      });
      addEvent(job, "job_complete", `Fine-tuning job finished; the model is available as ${job.outputName}`);
    }
  };

  const cancelJob = (job: Job): Reply => {
    if (TERMINAL.has(job.status)) {
      return invalidRequest(`Fine-tune job ${job.id} is ${job.status} and cannot be cancelled`, null);
    }
    if (job.status !== "cancel_requested") {
      setStatus(job, "cancel_requested");
      addEvent(job, "cancel_requested", "Cancel requested by user");
    }
    counters.cancels++;
    return { status: 200, body: truncatedView(job) };
  };

  const truncatedView = (job: Job): JsonObject => ({
    id: job.id,
    status: job.status,
    created_at: new Date(job.createdAt).toISOString(),
    updated_at: new Date(job.updatedAt).toISOString(),
    started_at: new Date(job.startedAt).toISOString(),
    user_id: `user-${accountOf(job.owner)}`,
    owner_address: `${accountOf(job.owner)}@example.invalid`,
    ...(job.tokenCount === undefined ? {} : { token_count: job.tokenCount }),
    ...(job.totalPriceNano === undefined ? {} : { total_price: job.totalPriceNano }),
    training_file: job.trainingFile.id,
    ...(job.validationFile ? { validation_file: job.validationFile.id } : {}),
    model: job.model,
    model_output_name: job.outputName,
    ...(job.suffix === undefined ? {} : { suffix: job.suffix }),
    n_epochs: job.nEpochs,
    n_evals: job.nEvals,
    n_checkpoints: job.nCheckpoints,
    batch_size: job.batchSize,
    learning_rate: job.learningRate,
    warmup_ratio: 0,
    max_grad_norm: 1,
    weight_decay: 0,
    packing: true,
    // No training_type in the request means LoRA at Together; this is what it resolves to.
    training_type: {
      type: "Lora",
      lora_r: 64,
      lora_alpha: 128,
      lora_dropout: 0,
      lora_trainable_modules: "all-linear",
    },
    progress: progressOf(job),
  });

  const fullView = (job: Job): JsonObject => ({
    ...truncatedView(job),
    job_id: job.id,
    events: job.events,
    epochs_completed: Math.floor(job.step / job.stepsPerEpoch),
    param_count: job.spec.paramCount,
    trainingfile_numlines: job.trainingFile.check.lines,
    trainingfile_size: job.trainingFile.bytes,
    queue_depth: 0,
  });

  const progressOf = (job: Job) => {
    const running = job.status === "running";
    const remaining = job.totalSteps - job.step + stage("compressing") + stage("uploading");
    return { estimate_available: running, seconds_remaining: running ? remaining : 0 };
  };

  const estimatePrice = (owner: string, body: JsonObject): Reply => {
    // The spec leaves `model` optional for runs continued from_checkpoint, which this double does not run.
    const model = String(body.model ?? "");
    const spec = models()[model];
    if (!spec) {
      return invalidRequest(
        `Model ${model} is not available for fine-tuning.`,
        "model",
        "model_not_available",
      );
    }
    const trainingFile = ownFile(owner, body.training_file);
    if (!trainingFile) return invalidRequest(`File ${String(body.training_file)} not found`, "training_file");
    const validationFile =
      body.validation_file === undefined ? undefined : ownFile(owner, body.validation_file);
    if (body.validation_file !== undefined && !validationFile) {
      return invalidRequest(`File ${String(body.validation_file)} not found`, "validation_file");
    }
    if (!trainingFile.check.valid) {
      return { status: 200, body: { estimation_available: false, unavailable_reason: "train_file_invalid" } };
    }
    const trainTokens = ((body.n_epochs as number | undefined) ?? 1) * trainingFile.check.tokens;
    const evalTokens = ((body.n_evals as number | undefined) ?? 0) * (validationFile?.check.tokens ?? 0);
    const rate = spec.usdPerMillionTokens;
    const noCredit = (current.noCreditKeys ?? []).includes(owner);
    return {
      status: 200,
      body: {
        estimation_available: true,
        estimated_total_price: ((trainTokens + evalTokens) * rate) / 1_000_000,
        allowed_to_proceed: !noCredit,
        user_limit: noCredit ? 0 : 100,
        estimated_train_token_count: trainTokens,
        estimated_eval_token_count: evalTokens,
      },
    };
  };

  // -------------------------------------------------------------------------------------------------
  // Dispatch

  const route = ({ owner, method, template, params, query, body, texts }: RoutedRequest): Reply => {
    const job = params.id === undefined ? undefined : jobs.get(params.id);
    const ownJob = job && job.owner === owner ? job : undefined;
    const jobNotFound = () => notFound(`Fine-tune job ${params.id} not found`);
    switch (`${method} ${template}`) {
      case "GET /files":
        return {
          status: 200,
          body: { data: [...files.values()].filter((f) => f.owner === owner).map(fileView) },
        };
      case "GET /files/{id}": {
        const file = files.get(params.id ?? "");
        return file && file.owner === owner
          ? { status: 200, body: fileView(file) }
          : notFound(`File ${params.id} not found`);
      }
      case "POST /files/upload":
        return uploadMultipart(owner, body, texts);
      case "POST /fine-tunes":
        return createJob(owner, body);
      case "GET /fine-tunes": {
        const own = [...jobs.values()].filter((j) => j.owner === owner).reverse();
        return { status: 200, body: { data: own.map(truncatedView) } };
      }
      case "POST /fine-tunes/estimate-price":
        return estimatePrice(owner, body);
      case "GET /fine-tunes/{id}":
        return ownJob ? { status: 200, body: fullView(ownJob) } : jobNotFound();
      case "POST /fine-tunes/{id}/cancel":
        return ownJob ? cancelJob(ownJob) : jobNotFound();
      case "GET /fine-tunes/{id}/events":
        return ownJob ? { status: 200, body: { data: ownJob.events } } : jobNotFound();
      case "GET /fine-tunes/{id}/checkpoints":
        return ownJob ? { status: 200, body: { data: ownJob.checkpoints } } : jobNotFound();
      case "GET /fine-tunes/{id}/metrics": {
        if (!ownJob) return jobNotFound();
        const from = Number(query.get("global_step_from") ?? Number.NEGATIVE_INFINITY);
        const to = Number(query.get("global_step_to") ?? Number.POSITIVE_INFINITY);
        const rows = ownJob.metrics.filter((row) => {
          const step = row["train/global_step"] ?? 0;
          return step >= from && step <= to;
        });
        return { status: 200, body: { metrics: rows } };
      }
      default:
        return notFound(`${method} ${template} is not served by this double`);
    }
  };

  const answer = async (req: IncomingMessage): Promise<{ reply: Reply; checkAs?: string }> => {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const raw = await readBody(req);
    if (url.pathname.startsWith("/__storage/") && method === "PUT") {
      count("PUT /__storage/{id}");
      return {
        reply: finishRedirectUpload(
          url.pathname.slice("/__storage/".length),
          url.searchParams,
          raw.toString("utf8"),
        ),
      };
    }
    const matched = contract.matchOperation(method, url.pathname);
    const legacyUpload = !matched && method === "POST" && url.pathname === "/v1/files";
    count(
      matched ? `${method} ${matched.template}` : legacyUpload ? "POST /files" : `${method} ${url.pathname}`,
    );
    if (!url.pathname.startsWith("/v1/") || (!matched && !legacyUpload)) {
      return { reply: notFound(`Unknown request URL: ${method} ${url.pathname}`) };
    }
    const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const keys = [...(current.apiKeys ?? [FAKE_TOGETHER_KEY]), ...(current.noCreditKeys ?? [])];
    const checkAs = matched ? url.pathname + url.search : undefined;
    if (!key || !keys.includes(key)) return { reply: unauthorized(), checkAs };
    if (injected && injected.count > 0) {
      injected.count--;
      return { reply: injected.reply(), checkAs };
    }
    if (legacyUpload) return { reply: startRedirectUpload(key, url.searchParams) };
    const contentType = req.headers["content-type"] ?? "";
    const parsed = await parseBody(raw, contentType);
    if ("error" in parsed) return { reply: invalidRequest(parsed.error, null), checkAs };
    const violations = contract.inspectRequest({
      method,
      path: url.pathname + url.search,
      body: parsed.body,
      ...(raw.length > 0 ? { contentType } : {}),
    });
    const first = violations[0];
    if (first) {
      const message = `Invalid request: ${violations.map((v) => `${v.param ?? v.in} ${v.message}`).join("; ")}`;
      return { reply: invalidRequest(message, first.param), checkAs };
    }
    const reply = route({
      owner: key,
      method,
      template: matched?.template ?? "",
      params: matched?.params ?? {},
      query: url.searchParams,
      body: (parsed.body ?? {}) as JsonObject,
      texts: parsed.texts ?? {},
    });
    return { reply, checkAs };
  };

  const count = (name: string) => {
    counters.requests[name] = (counters.requests[name] ?? 0) + 1;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { reply, checkAs } = await answer(req);
    if (checkAs && (current.strict ?? true)) recordViolations(req.method ?? "GET", checkAs, reply);
    const body = reply.body === undefined ? "" : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...(reply.body === undefined ? {} : { "content-type": "application/json" }),
      "x-request-id": randomUUID(),
      ...reply.headers,
    });
    res.end(body);
  };

  const recordViolations = (method: string, path: string, reply: Reply) => {
    const template = contract.matchOperation(method, path)?.template;
    const found = contract
      .checkResponse({ method, path, status: reply.status, body: reply.body })
      .filter(
        (violation) => !KNOWN_SPEC_DEFECTS.some((d) => d.template === template && d.violation === violation),
      );
    for (const violation of found)
      contractViolations.push(`${method} ${path} → ${reply.status}: ${violation}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error: { message: String(error), type: "server_error", param: null, code: null } }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  return {
    url: origin,
    baseURL: `${origin}/v1`,
    counters,
    contractViolations,
    now: () => clock / 1000,
    advance,
    runToEnd(jobId) {
      const job = jobs.get(jobId);
      if (!job) throw new Error(`no job ${jobId}`);
      let advanced = 0;
      while (!TERMINAL.has(job.status)) {
        advance(1);
        advanced++;
      }
      return advanced;
    },
    rateLimitNext(count = 1, retryAfterSeconds = 1) {
      injected = { count, reply: () => rateLimited(retryAfterSeconds) };
    },
    failNext(count, status, message = "The server had an error while processing your request") {
      injected = { count, reply: () => errorReply(status, { message, type: "server_error" }) };
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
// Errors, in Together's envelope (ErrorData)

function errorReply(
  status: number,
  error: { message: string; type: string; param?: string | null; code?: string | null },
  headers?: Record<string, string>,
): Reply {
  return { status, body: { error: { param: null, code: null, ...error } }, ...(headers ? { headers } : {}) };
}

function invalidRequest(message: string, param: string | null, code: string | null = null): Reply {
  return errorReply(400, { message, type: "invalid_request_error", param, code });
}

function notFound(message: string): Reply {
  return errorReply(404, { message, type: "invalid_request_error", code: "not_found" });
}

function unauthorized(): Reply {
  return errorReply(401, {
    message:
      "Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.",
    type: "invalid_request_error",
    code: "invalid_api_key",
  });
}

function noCredit(): Reply {
  return errorReply(402, {
    message:
      "Insufficient balance: your credit limit and balance do not cover this fine-tuning job. Add credits at https://api.together.ai/settings/billing.",
    type: "invalid_request_error",
    code: "insufficient_balance",
  });
}

function rateLimited(retryAfterSeconds: number): Reply {
  const reset = String(retryAfterSeconds);
  return errorReply(
    429,
    {
      message: "Rate limit exceeded, please try again later",
      type: "rate_limit_exceeded",
      code: "rate_limit_exceeded",
    },
    {
      "retry-after": reset,
      "x-ratelimit-limit": "60",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-reset": reset,
    },
  );
}

// ---------------------------------------------------------------------------------------------------
// Training files

/** Together's rules for a fine-tuning JSONL: one object a line, all in one of its three formats. */
export function checkJsonl(content: string): FileCheck {
  const lines = content.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines.length === 0) return { valid: false, error: "The file is empty", lines: 0, tokens: 0 };
  let format: FileCheck["format"];
  let tokens = 0;
  for (const [index, line] of lines.entries()) {
    const fail = (why: string): FileCheck => ({
      valid: false,
      error: `Line ${index + 1}: ${why}`,
      lines: lines.length,
      tokens: 0,
    });
    let record: Json;
    try {
      record = JSON.parse(line);
    } catch {
      return fail("is not valid JSON");
    }
    if (typeof record !== "object" || record === null || Array.isArray(record))
      return fail("is not a JSON object");
    const lineFormat = formatOf(record as JsonObject);
    if (!lineFormat) {
      return fail('expected "messages" (a list of {role, content}), "text", or "prompt" and "completion"');
    }
    if (format && lineFormat !== format)
      return fail(`is in ${lineFormat} format, earlier lines in ${format}`);
    format = lineFormat;
    tokens += countTokens(textOf(record as JsonObject));
  }
  return { valid: true, format, lines: lines.length, tokens };
}

function formatOf(record: JsonObject): FileCheck["format"] {
  const { messages } = record;
  if (Array.isArray(messages)) {
    const ok =
      messages.length > 0 &&
      messages.every(
        (m) =>
          typeof m === "object" &&
          m !== null &&
          ["system", "user", "assistant", "tool"].includes(String((m as JsonObject).role)) &&
          typeof (m as JsonObject).content === "string",
      );
    return ok ? "conversation" : undefined;
  }
  if (typeof record.text === "string") return "general";
  if (typeof record.prompt === "string" && typeof record.completion === "string") return "instruction";
  return undefined;
}

function textOf(record: JsonObject): string {
  if (Array.isArray(record.messages))
    return record.messages.map((m) => String((m as JsonObject).content)).join("\n");
  if (typeof record.text === "string") return record.text;
  return `${String(record.prompt)}\n${String(record.completion)}`;
}

// ---------------------------------------------------------------------------------------------------
// Plumbing

/** A loss curve that falls and flattens, with a little deterministic wobble. */
function trainLoss(step: number, totalSteps: number): number {
  return round4(0.35 + 1.9 * Math.exp((-3 * step) / totalSteps) + 0.02 * Math.sin(step));
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** `count` steps spread evenly over 1..total (the last included when `includeLast`). */
function spread(count: number, total: number, includeLast: boolean): number[] {
  const parts = includeLast ? count : count + 1;
  const steps = Array.from({ length: Math.max(0, count) }, (_, k) => Math.round((total * (k + 1)) / parts));
  return [...new Set(steps)].filter((step) => step >= 1 && (includeLast ? step <= total : step < total));
}

async function parseBody(
  raw: Buffer,
  contentType: string,
): Promise<{ body: Json; texts?: Record<string, string> } | { error: string }> {
  if (raw.length === 0) return { body: undefined };
  if (contentType.startsWith("multipart/form-data")) {
    try {
      const form = await new Response(new Uint8Array(raw), {
        headers: { "content-type": contentType },
      }).formData();
      const fields: JsonObject = {};
      const texts: Record<string, string> = {};
      for (const [name, value] of form.entries()) {
        // File parts stay Blobs for the contract (it checks them as binary); the handler reads the text.
        fields[name] = value;
        if (typeof value !== "string") texts[name] = await value.text();
      }
      return { body: fields, texts };
    } catch {
      return { error: "Could not parse the multipart/form-data body" };
    }
  }
  try {
    return { body: JSON.parse(raw.toString("utf8")) };
  } catch {
    return { error: "Request body is not valid JSON" };
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
