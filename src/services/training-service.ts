import { randomUUID } from "node:crypto";
import { createWriteStream, openAsBlob } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Actor } from "../core/actor.js";
import { counted } from "../core/counted.js";
import {
  BudgetError,
  ConflictError,
  NotFoundError,
  ProviderRefusedError,
  ValidationError,
} from "../core/errors.js";
import type { SplitPart } from "../core/export/split.js";
import type { PairMessage } from "../core/generation/types.js";
import { type EstimateTrainingInput, estimateTrainingSchema, startTrainingSchema } from "../core/inputs.js";
import { modelInfo, recommendedEpochs } from "../core/models.js";
import { trainingPricePerMillion } from "../core/prices.js";
import type { TrainingJobStatus } from "../core/statuses.js";
import { countChatTokens } from "../core/tokens.js";
import {
  type BudgetVerdict,
  billedEvaluations,
  checkBudget,
  monthStart,
  trainingCostUsd,
} from "../core/training/budget.js";
import {
  CANCEL_REQUESTED,
  CANCELLABLE_TRAINING_STATUSES,
  describeProgress,
  explainProviderError,
  isTerminal,
  newJobsRefusal,
  providerWarnings,
  type TrainingSettings,
  withoutPauseReason,
  withPauseReason,
} from "../core/training/lifecycle.js";
import {
  type HostedProvider,
  type Hyperparameters,
  ProviderError,
  type ProviderJob,
  type StepMetrics,
  type TrainingProvider,
} from "../core/training/provider.js";
import { MIN_TRAINING_PAIRS, type ValidationResult } from "../core/validation/validate-dataset.js";
import type { DatasetsRepository } from "../db/repositories/datasets-repository.js";
import type {
  TrainingJobPatch,
  TrainingJobRow,
  TrainingRepository,
} from "../db/repositories/training-repository.js";
import type { Logger } from "../logger.js";
import type { DatasetFileService } from "./dataset-file-service.js";
import { parseInput } from "./parse-input.js";
import type { ProjectService } from "./project-service.js";

/** One scheduled poll of one job; `token` makes every other scheduled poll of the job stale. */
export interface TrackStep {
  userId: string;
  jobId: string;
  token: string;
}

export interface TrainingDeps {
  jobs: TrainingRepository;
  datasets: DatasetsRepository;
  projects: ProjectService;
  files: DatasetFileService;
  keys: { reveal(actor: Actor, provider: HostedProvider): Promise<string | undefined> };
  /** Each provider's adapter, loaded on first use (see `once`). */
  providers: Record<HostedProvider, () => Promise<TrainingProvider>>;
  schedule(step: TrackStep, delaySeconds: number): Promise<void>;
  settings: TrainingSettings;
  now?: () => Date;
  logger: Logger;
}

/** The seed's Cost Preview: the estimate beside the month's spend, the budget and the projected total. */
export interface CostPreview {
  datasetId: string;
  provider: HostedProvider;
  model: string;
  trainingExamples: number;
  validationExamples: number;
  /** One epoch's billable tokens of the training file. */
  billableTokens: number;
  /** One pass over the validation file (0 without a split). */
  validationTokens: number;
  epochs: number;
  /** Billed passes over the validation file: Together's evaluations (one per epoch); OpenAI bills none. */
  billedEvaluations: number;
  epochsSource: "auto" | "requested";
  pricePerMillionUsd: number | null;
  priceSource: "price table" | "unknown";
  /** null means unknown, never 0. */
  estimatedCostUsd: number | null;
  spentThisMonthUsd: number;
  monthlyBudgetUsd: number | null;
  budgetEnforcement: "warn" | "block";
  projectedTotalUsd: number | null;
  budget: BudgetVerdict;
  validation: { valid: boolean; errors: string[] };
  /** What to know before choosing this provider (OpenAI's coming cutoff for new jobs). */
  warnings: string[];
}

/** A training job as users see it: the row without its internal polling token. */
export type TrainingJobView = Omit<TrainingJobRow, "pollToken"> & { trackingPaused: boolean };

export function toJobView(row: TrainingJobRow): TrainingJobView {
  const { pollToken: _internal, ...view } = row;
  return { ...view, trackingPaused: row.trackingPausedAt !== null };
}

/** The provider's word when its adapter found no FineFlow status for it (`paused`), to show as it is. */
const unmapped = (job: ProviderJob) => (job.status === undefined ? job.providerStatus : undefined);

/** The file a FineFlow job uploads, named after it so a restart can find it instead of uploading again. */
const fileName = (jobId: string, part: SplitPart) => `fineflow-${jobId}-${part}.jsonl`;
/** A validation split is decided by this seed, so retries upload the same files. */
const SPLIT_SEED = 42;

/**
 * The seed's training lifecycle (SPEC §4.6–4.7): cost preview, budget guard, start, tracking, cancel.
 * Every provider id is recorded before the next step, and each step first looks for what an interrupted
 * attempt may already have made, so no retry or restart uploads a file or creates a job twice.
 */
export class TrainingService {
  private readonly now: () => Date;

  constructor(private readonly deps: TrainingDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async estimate(actor: Actor, input: unknown): Promise<CostPreview> {
    const parsed = parseInput(estimateTrainingSchema, input);
    this.refuseClosedProvider(parsed.provider);
    return this.preview(actor, parsed);
  }

  /** A provider that takes no new jobs is refused before anything is priced, uploaded or reserved. */
  private refuseClosedProvider(provider: HostedProvider) {
    const refusal = newJobsRefusal(provider, this.now());
    if (refusal) throw new ProviderRefusedError(refusal);
  }

  private async preview(actor: Actor, input: EstimateTrainingInput): Promise<CostPreview> {
    const dataset = await this.deps.datasets.findById(actor, input.datasetId);
    if (!dataset) throw new NotFoundError("Dataset", input.datasetId);
    const project = await this.deps.projects.get(actor, dataset.projectId);
    const validation = await this.deps.files.validate(actor, dataset.id, { model: input.model });
    const files = input.validationSplit
      ? await this.splitSizes(actor, dataset.id, input.model, input.validationSplit)
      : {
          train: { examples: validation.stats.totalPairs, tokens: validation.stats.billableTokens },
          validation: { examples: 0, tokens: 0 },
        };
    const epochs = input.epochs ?? recommendedEpochs(files.train.examples);
    const evaluations = billedEvaluations(input.provider, epochs, files.validation.tokens);
    const price = this.price(input, files.train.tokens * epochs + files.validation.tokens * evaluations);
    const spentThisMonthUsd = await this.deps.jobs.spendSince(project.id, monthStart(this.now()));
    const budget = checkBudget({
      budgetUsd: project.monthlyBudgetUsd ?? undefined,
      enforcement: project.budgetEnforcement,
      spentUsd: spentThisMonthUsd,
      estimateUsd: price.costUsd,
    });
    return {
      datasetId: dataset.id,
      provider: input.provider,
      model: input.model,
      trainingExamples: files.train.examples,
      validationExamples: files.validation.examples,
      billableTokens: files.train.tokens,
      validationTokens: files.validation.tokens,
      epochs,
      billedEvaluations: evaluations,
      epochsSource: input.epochs ? "requested" : "auto",
      pricePerMillionUsd: price.perMillion ?? null,
      priceSource: price.source,
      estimatedCostUsd: price.costUsd ?? null,
      spentThisMonthUsd,
      monthlyBudgetUsd: project.monthlyBudgetUsd ?? null,
      budgetEnforcement: project.budgetEnforcement,
      projectedTotalUsd: budget.projectedUsd ?? null,
      budget,
      validation: withSplitChecked(validation, files.train.examples, input.validationSplit),
      warnings: providerWarnings(input.provider, this.now()),
    };
  }

  /**
   * Examples and tokens of the two files the upload will send, read from the very files (`exportFile`):
   * the split hashes each pair, so its sides are not round(n × fraction), and only the upload's own
   * split gives the examples, tokens and auto epochs the provider will see.
   */
  private async splitSizes(actor: Actor, datasetId: string, model: string, fraction: number) {
    const { encoding } = modelInfo(model);
    const size = async (part: SplitPart) => {
      const { lines } = await this.exportFile(actor, datasetId, model, { fraction, part });
      let examples = 0;
      let tokens = 0;
      for await (const line of lines) {
        examples++;
        tokens += countChatTokens((JSON.parse(line) as { messages: PairMessage[] }).messages, encoding);
      }
      return { examples, tokens };
    };
    return { train: await size("train"), validation: await size("validation") };
  }

  /** The file uploaded for a job (or one side of its split): the one definition upload and estimate share. */
  private exportFile(
    actor: Actor,
    datasetId: string,
    model: string,
    split: { fraction: number; part: SplitPart } | undefined,
  ) {
    return this.deps.files.export(actor, datasetId, {
      format: "openai",
      model,
      split: split && { ...split, seed: SPLIT_SEED },
    });
  }

  /**
   * From the dated table, for every billed token (the epochs' and the evaluations'); a provider that
   * quotes its own price (Together) refines it once the files are up.
   */
  private price(input: EstimateTrainingInput, billedTokens: number) {
    const perMillion = trainingPricePerMillion(input.provider, input.model);
    const costUsd = trainingCostUsd(billedTokens, 1, perMillion);
    return {
      source: costUsd === undefined ? ("unknown" as const) : ("price table" as const),
      costUsd,
      perMillion,
    };
  }

  /** Checks the seed's prerequisites and the budget, then creates the job and schedules its first step. */
  async start(actor: Actor, raw: unknown): Promise<TrainingJobView> {
    const input = parseInput(startTrainingSchema, raw);
    this.refuseClosedProvider(input.provider);
    if (input.provider === "openai" && input.learningRate !== undefined) {
      throw ValidationError.forField(
        "learningRate",
        "OpenAI takes learningRateMultiplier, not an absolute learning rate",
      );
    }
    if (input.provider === "together" && input.learningRateMultiplier !== undefined) {
      throw ValidationError.forField(
        "learningRateMultiplier",
        "Together AI takes learningRate, not a multiplier",
      );
    }
    const dataset = await this.deps.datasets.findById(actor, input.datasetId);
    if (!dataset) throw new NotFoundError("Dataset", input.datasetId);
    if (dataset.status !== "ready") {
      throw new ConflictError(
        `Dataset "${dataset.name}" is ${dataset.status}; a training job needs it ready.`,
      );
    }
    if (!(await this.deps.keys.reveal(actor, input.provider))) {
      throw ValidationError.forField(
        "provider",
        `no ${input.provider} API key is set; set one under Training → API keys, or with \`fineflow keys set ${input.provider}\``,
      );
    }
    const preview = await this.preview(actor, input);
    if (!preview.validation.valid) {
      throw new ConflictError(
        `Dataset "${dataset.name}" does not pass validation for ${input.model}: ${preview.validation.errors.slice(0, 3).join("; ")}`,
        { errors: preview.validation.errors },
      );
    }
    enforceBudget(preview, input.confirmOverBudget);
    const hyperparameters: Hyperparameters = {
      // OpenAI picks `auto` epochs itself; Together would use its own default, so it gets the estimate's.
      nEpochs: input.provider === "together" ? preview.epochs : input.epochs,
      batchSize: input.batchSize,
      learningRateMultiplier: input.learningRateMultiplier,
      learningRate: input.learningRate,
    };
    const job = await this.deps.jobs.create(
      actor,
      {
        projectId: dataset.projectId,
        datasetId: dataset.id,
        provider: input.provider,
        baseModel: input.model,
        hyperparameters: JSON.parse(JSON.stringify(hyperparameters)),
        validationSplit: input.validationSplit ?? null,
        suffix: input.suffix ?? null,
        estimatedCostUsd: preview.estimatedCostUsd,
        pollToken: randomUUID(),
        currentStep: "Waiting to start",
      },
      preview.estimatedCostUsd
        ? {
            amountUsd: preview.estimatedCostUsd,
            description: `reserved: ${preview.billableTokens} tokens × ${preview.epochs} epochs${preview.billedEvaluations ? ` + ${preview.validationTokens} validation tokens × ${preview.billedEvaluations} evaluations` : ""} on ${input.model}`,
          }
        : undefined,
      {
        since: monthStart(this.now()),
        // Again with the spend as it stands now, other starts of the project held off: another job may
        // have reserved its estimate since the preview read it.
        check: (spentUsd) =>
          enforceBudget(
            { ...preview, spentThisMonthUsd: spentUsd, ...budgetOf(preview, spentUsd) },
            input.confirmOverBudget,
          ),
      },
    );
    if (!job) throw new ConflictError(`Dataset "${dataset.name}" was taken by another training job.`);
    await this.scheduleNext(job, 0);
    return toJobView(job);
  }

  private provider(job: TrainingJobRow): Promise<TrainingProvider> {
    return this.deps.providers[job.provider as HostedProvider]();
  }

  private async scheduleNext(job: TrainingJobRow, delaySeconds: number) {
    if (!job.pollToken) return;
    await this.deps.schedule({ userId: job.userId, jobId: job.id, token: job.pollToken }, delaySeconds);
  }

  /**
   * One step of a job's life, run by the queue: launch it at the provider if that is not done, then poll
   * it, then schedule the next poll under a fresh token. A stale step (another token) does nothing.
   */
  async track(step: TrackStep): Promise<void> {
    const actor = { userId: step.userId };
    const job = await this.deps.jobs.find(actor, step.jobId);
    if (!job || isTerminal(job.status) || job.pollToken !== step.token) return;
    const key = await this.deps.keys.reveal(actor, job.provider as HostedProvider);
    if (!key) {
      await this.pauseTracking(
        job,
        `the ${job.provider} API key was deleted; set it again with \`fineflow keys set ${job.provider}\`, then resume with \`fineflow jobs resume ${job.id}\``,
      );
      return;
    }
    try {
      const launched = job.providerJobId ? job : await this.launch(job, key);
      if (!launched?.providerJobId) return;
      const polled = await this.poll(launched, key);
      if (polled) await this.continueTracking(polled);
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      await this.handleProviderError(job.id, actor, error);
    }
  }

  /**
   * Transient trouble: try again later. Anything else fails the job if nothing runs at the provider yet;
   * once a provider job exists it may still be training (and billing), so tracking pauses instead, with
   * the reason, until the user fixes it and resumes.
   */
  private async handleProviderError(jobId: string, actor: Actor, error: ProviderError) {
    const job = await this.deps.jobs.find(actor, jobId);
    if (!job || isTerminal(job.status)) return;
    if (error.kind === "transient") {
      this.deps.logger.warn("provider unavailable; retrying", { jobId, error: error.message });
      const retry = await this.deps.jobs.update(actor, jobId, { pollToken: randomUUID() });
      const delay = Math.max(
        this.deps.settings.pollIntervalSeconds,
        (error.details.retryAfterMs ?? 0) / 1000,
      );
      if (retry) await this.scheduleNext(retry, delay);
      return;
    }
    const dataset = await this.deps.datasets.findById(actor, job.datasetId);
    const message = explainProviderError(error, {
      datasetName: dataset?.name ?? job.datasetId,
      model: job.baseModel,
    });
    if (job.providerJobId && error.kind !== "not_found") await this.pauseTracking(job, message);
    else await this.fail(job, error.kind, message);
  }

  /** Uploads the files and creates the provider job, each only if an earlier attempt did not. */
  private async launch(job: TrainingJobRow, key: string): Promise<TrainingJobRow | undefined> {
    const actor = { userId: job.userId };
    const provider = await this.provider(job);
    let current: TrainingJobRow | undefined = await this.deps.jobs.update(actor, job.id, {
      status: "uploading",
      currentStep: describeProgress({ status: "uploading" }).currentStep,
    });
    if (!current) return undefined;
    const split = current.validationSplit ?? undefined;
    if (!current.providerFileId) {
      const id = await this.ensureFile(provider, key, current, split ? "train" : undefined);
      current = await this.deps.jobs.update(actor, job.id, { providerFileId: id });
      if (!current) return undefined;
    }
    if (split && !current.providerValidationFileId) {
      const id = await this.ensureFile(provider, key, current, "validation");
      current = await this.deps.jobs.update(actor, job.id, { providerValidationFileId: id });
      if (!current) return undefined;
    }
    const trainingFileId = current.providerFileId as string;
    const existing = await provider.findJobByTrainingFile(key, trainingFileId);
    if (!existing) {
      current = await this.quote(provider, key, current, trainingFileId);
      if (!current) return undefined;
    }
    const created =
      existing ??
      (await provider.createJob(key, {
        model: current.baseModel,
        trainingFileId,
        validationFileId: current.providerValidationFileId ?? undefined,
        hyperparameters: current.hyperparameters as Hyperparameters,
        suffix: current.suffix ?? undefined,
        fineflowJobId: current.id,
      }));
    const status = created.status ?? "validating";
    const recorded = await this.deps.jobs.update(actor, job.id, {
      providerJobId: created.id,
      providerStatus: created.providerStatus,
      status,
      currentStep: describeProgress({ status, unmappedProviderStatus: unmapped(created) }).currentStep,
      trackingStartedAt: this.now(),
    });
    // Cancelled while the provider job was being created: cancel that one too, or it would train unseen.
    if (!recorded) await provider.cancelJob(key, created.id).catch(() => undefined);
    return recorded;
  }

  /**
   * The provider's own price for the uploaded file replaces the table's estimate (and its reservation); a
   * `block` budget is checked again against it before any training is bought.
   */
  private async quote(provider: TrainingProvider, key: string, job: TrainingJobRow, trainingFileId: string) {
    if (!provider.estimatePriceUsd) return job;
    const nEpochs = (job.hyperparameters as Hyperparameters).nEpochs;
    const quoted = await provider.estimatePriceUsd(key, {
      model: job.baseModel,
      trainingFileId,
      validationFileId: job.providerValidationFileId ?? undefined,
      nEpochs,
    });
    if (quoted === undefined || quoted === job.estimatedCostUsd) return job;
    const actor = { userId: job.userId };
    const project = await this.deps.projects.get(actor, job.projectId);
    const spent = await this.deps.jobs.spendSince(project.id, monthStart(this.now()));
    const verdict = checkBudget({
      budgetUsd: project.monthlyBudgetUsd ?? undefined,
      enforcement: project.budgetEnforcement,
      spentUsd: spent - (job.estimatedCostUsd ?? 0),
      estimateUsd: quoted,
    });
    if (verdict.decision === "blocked") {
      await this.fail(
        job,
        "budget_exceeded",
        `Budget exceeded at ${job.provider}'s own price: ${verdict.reason}.`,
      );
      return undefined;
    }
    return this.deps.jobs.reprice(
      actor,
      job.id,
      quoted,
      `reserved: ${job.provider}'s estimate for ${job.baseModel}`,
    );
  }

  private async ensureFile(
    provider: TrainingProvider,
    key: string,
    job: TrainingJobRow,
    part: SplitPart | undefined,
  ) {
    const name = fileName(job.id, part ?? "train");
    const found = await provider.findFile(key, name);
    if (found) return found.id;
    const split = part && job.validationSplit ? { fraction: job.validationSplit, part } : undefined;
    const { lines } = await this.exportFile({ userId: job.userId }, job.datasetId, job.baseModel, split);
    // Through a file of its own, streamed both ways: a dataset can be hundreds of MB (OpenAI takes up to
    // 512), and holding it in memory, then a copy of it, did not scale. Measured, uploading such a file:
    // 180 MB sent with the process's peak 28 MB above where it started.
    const dir = await mkdtemp(join(tmpdir(), `fineflow-upload-${job.id}-`));
    try {
      const path = join(dir, name);
      await pipeline(Readable.from(lines), createWriteStream(path, { mode: 0o600, highWaterMark: 1 << 20 }));
      const uploaded = await provider.uploadFile(key, { filename: name, content: await openAsBlob(path) });
      return uploaded.id;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Reads the provider's state and events; finishes the job when the provider has. */
  private async poll(job: TrainingJobRow, key: string): Promise<TrainingJobRow | undefined> {
    const provider = await this.provider(job);
    const remote = await provider.getJob(key, job.providerJobId as string);
    const after = await this.deps.jobs.newestEventId(job.id);
    await this.deps.jobs.addEvents(job.id, await provider.listEvents(key, remote.id, after));
    const latest = await this.deps.jobs.latestMetrics(job.id);
    const status = remote.status ?? job.status;
    if (isTerminal(status)) return this.finishFromProvider(job, remote, key, latest);
    return this.deps.jobs.update({ userId: job.userId }, job.id, {
      status,
      providerStatus: remote.providerStatus,
      trainedTokens: remote.trainedTokens ?? job.trainedTokens,
      ...describeProgress({
        status,
        unmappedProviderStatus: unmapped(remote),
        cancelling: remote.cancelling,
        latest,
        trainedTokens: remote.trainedTokens,
      }),
    });
  }

  private async finishFromProvider(
    job: TrainingJobRow,
    remote: ProviderJob,
    key: string,
    latest?: StepMetrics,
  ) {
    const provider = await this.provider(job);
    const status = remote.status as TrainingJobStatus;
    const results = status === "completed" ? await provider.readResultMetrics(key, remote) : [];
    await this.deps.jobs.addEvents(
      job.id,
      results.map((metrics) => ({
        id: `result:${metrics.step}`,
        createdAt: remote.finishedAt ?? this.now(),
        level: "info",
        type: "metrics",
        message: "from the result file",
        metrics,
      })),
    );
    const checkpoints = await provider.listCheckpoints(key, remote.id);
    const costUsd =
      remote.totalPriceUsd ??
      trainingCostUsd(remote.trainedTokens ?? 0, 1, trainingPricePerMillion(job.provider, job.baseModel));
    const dataset = await this.deps.datasets.findById({ userId: job.userId }, job.datasetId);
    const errorMessage =
      remote.error &&
      explainProviderError(
        new ProviderError(job.provider as HostedProvider, "job_failed", remote.error.message, {
          code: remote.error.code,
          param: remote.error.param,
        }),
        { datasetName: dataset?.name ?? job.datasetId, model: job.baseModel },
      );
    const patch: TrainingJobPatch & { status: TrainingJobStatus } = {
      status,
      providerStatus: remote.providerStatus,
      fineTunedModel: remote.fineTunedModel ?? null,
      trainedTokens: remote.trainedTokens ?? null,
      actualCostUsd: costUsd ?? null,
      checkpoints: checkpoints.map((c) => ({ ...c, createdAt: c.createdAt.toISOString() })),
      errorCode: remote.error?.code ?? (status === "failed" ? "failed" : null),
      errorMessage: errorMessage ?? (status === "failed" ? "The provider reported the job failed." : null),
      ...describeProgress({
        status,
        latest,
        fineTunedModel: remote.fineTunedModel,
        errorMessage: errorMessage ?? "The provider reported the job failed.",
      }),
    };
    await this.deps.jobs.finish(
      { userId: job.userId },
      job.id,
      patch,
      this.spend(job, costUsd, remote.trainedTokens),
    );
    return undefined;
  }

  private spend(job: TrainingJobRow, costUsd: number | undefined, trainedTokens: number | undefined) {
    if (costUsd === undefined) return undefined;
    const tokens = trainedTokens ? `: ${trainedTokens} tokens trained` : "";
    return { amountUsd: costUsd, description: `${job.baseModel}${tokens}` };
  }

  /** Schedules the next poll, or pauses tracking once the limit is reached (the job itself goes on). */
  private async continueTracking(job: TrainingJobRow) {
    const actor = { userId: job.userId };
    const started = job.trackingStartedAt ?? job.createdAt;
    const elapsedHours = (this.now().getTime() - started.getTime()) / 3_600_000;
    if (elapsedHours >= this.deps.settings.maxTrackingHours) {
      const hours = this.deps.settings.maxTrackingHours;
      await this.pauseTracking(job, `after ${hours} h; resume it with \`fineflow jobs resume ${job.id}\``);
      return;
    }
    const next = await this.deps.jobs.update(actor, job.id, { pollToken: randomUUID() });
    if (next) await this.scheduleNext(next, this.deps.settings.pollIntervalSeconds);
  }

  /** Stops polling without ending the job: the provider may still be running it. */
  private async pauseTracking(job: TrainingJobRow, reason: string) {
    await this.deps.jobs.update({ userId: job.userId }, job.id, {
      pollToken: null,
      trackingPausedAt: this.now(),
      currentStep: withPauseReason(
        job.currentStep ?? describeProgress({ status: job.status }).currentStep,
        reason,
      ),
    });
  }

  private async fail(job: TrainingJobRow, code: string, message: string) {
    await this.deps.jobs.finish(
      { userId: job.userId },
      job.id,
      { status: "failed", errorCode: code, errorMessage: message, currentStep: `Failed: ${message}` },
      undefined,
    );
  }

  /**
   * The seed's cancellation: allowed states, owner only, the provider's cancel when it has the job. A
   * provider that stops the job at once (OpenAI) settles it now; one that only takes the request (Together's
   * `cancel_requested`) is tracked until it says `cancelled`, and what it charged for the part that ran is
   * recorded then. The reservation holds until that final figure replaces it.
   */
  async cancel(actor: Actor, jobId: string): Promise<TrainingJobView> {
    const job = await this.deps.jobs.find(actor, jobId);
    if (!job) throw new NotFoundError("Training job", jobId);
    if (!CANCELLABLE_TRAINING_STATUSES.has(job.status)) {
      throw new ConflictError(
        `Training job ${jobId} is ${job.status}; only pending, uploading, validating, queued or training jobs can be cancelled.`,
      );
    }
    const { remote, key } = job.providerJobId ? await this.cancelAtProvider(actor, job) : {};
    if (remote && key && isTerminal(remote.status ?? job.status)) {
      try {
        await this.finishFromProvider(job, remote, key, await this.deps.jobs.latestMetrics(job.id));
        return this.get(actor, jobId);
      } catch (error) {
        // Cancelled at the provider, but its final figures could not be read now: the next poll reads them.
        if (!(error instanceof ProviderError)) throw error;
      }
    }
    if (remote) {
      const cancelling = await this.deps.jobs.update(actor, job.id, {
        providerStatus: remote.providerStatus,
        currentStep: CANCEL_REQUESTED,
        pollToken: randomUUID(),
        trackingPausedAt: null,
      });
      if (!cancelling) return this.get(actor, jobId);
      await this.scheduleNext(cancelling, this.deps.settings.pollIntervalSeconds);
      return toJobView(cancelling);
    }
    // Nothing reached the provider, which charged nothing; or it no longer knows the job: no charge to read.
    const finished = await this.deps.jobs.finish(
      actor,
      job.id,
      { status: "cancelled", currentStep: "Cancelled", actualCostUsd: job.providerJobId ? null : 0 },
      undefined,
    );
    return finished ? toJobView(finished) : this.get(actor, jobId);
  }

  /** The provider's answer to the cancel (none when it no longer knows the job), and the key it took. */
  private async cancelAtProvider(
    actor: Actor,
    job: TrainingJobRow,
  ): Promise<{ remote?: ProviderJob; key: string }> {
    const key = await this.deps.keys.reveal(actor, job.provider as HostedProvider);
    if (!key)
      throw ValidationError.forField(
        "provider",
        `set your ${job.provider} API key again to cancel this job at the provider`,
      );
    try {
      return { remote: await (await this.provider(job)).cancelJob(key, job.providerJobId as string), key };
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      if (error.kind === "not_found") return { key };
      const dataset = await this.deps.datasets.findById(actor, job.datasetId);
      throw new ProviderRefusedError(
        explainProviderError(error, { datasetName: dataset?.name ?? job.datasetId, model: job.baseModel }),
      );
    }
  }

  /** Starts polling again a job whose tracking paused (or that a restart left behind). */
  async resume(actor: Actor, jobId: string): Promise<TrainingJobView> {
    const job = await this.deps.jobs.find(actor, jobId);
    if (!job) throw new NotFoundError("Training job", jobId);
    if (isTerminal(job.status))
      throw new ConflictError(`Training job ${jobId} is ${job.status}; there is nothing to track.`);
    // Without the key the first poll would pause again at once: say so instead of "resumed".
    if (!(await this.deps.keys.reveal(actor, job.provider as HostedProvider))) {
      throw ValidationError.forField(
        "provider",
        `no ${job.provider} API key is set; set it with \`fineflow keys set ${job.provider}\`, then resume`,
      );
    }
    const resumed = await this.deps.jobs.update(actor, jobId, {
      pollToken: randomUUID(),
      trackingPausedAt: null,
      currentStep: job.currentStep && withoutPauseReason(job.currentStep),
      trackingStartedAt: job.providerJobId ? this.now() : job.trackingStartedAt,
    });
    if (!resumed) throw new ConflictError(`Training job ${jobId} has just ended.`);
    await this.scheduleNext(resumed, 0);
    return toJobView(resumed);
  }

  /**
   * Every job still tracked gets one fresh polling chain: all of them after a restart, and, from the
   * watchdog, those whose chain broke (no update for `idleSeconds`, e.g. a step that kept crashing).
   */
  async recover(idleSeconds?: number): Promise<number> {
    const idleSince =
      idleSeconds === undefined ? undefined : new Date(this.now().getTime() - idleSeconds * 1000);
    const jobs = await this.deps.jobs.tracked(idleSince);
    for (const job of jobs) {
      const next = await this.deps.jobs.update({ userId: job.userId }, job.id, { pollToken: randomUUID() });
      if (next) await this.scheduleNext(next, 0);
    }
    return jobs.length;
  }

  async get(actor: Actor, jobId: string): Promise<TrainingJobView> {
    const job = await this.deps.jobs.find(actor, jobId);
    if (!job) throw new NotFoundError("Training job", jobId);
    return toJobView(job);
  }

  async list(actor: Actor, filter: { projectId?: string; datasetId?: string }) {
    return (await this.deps.jobs.list(actor, filter)).map(toJobView);
  }

  /** The loss curve and the provider's messages, from the stored events. */
  async events(actor: Actor, jobId: string) {
    await this.get(actor, jobId);
    const rows = await this.deps.jobs.events(actor, jobId);
    return rows.map((row) => ({
      id: row.providerEventId,
      occurredAt: row.occurredAt,
      level: row.level,
      type: row.type,
      message: row.message,
      step: row.step,
      trainLoss: row.trainLoss,
      validLoss: row.validLoss,
      trainAccuracy: row.trainAccuracy,
      validAccuracy: row.validAccuracy,
    }));
  }

  /** One point per step: the result file's numbers win over the live events' for the same step. */
  async metrics(actor: Actor, jobId: string): Promise<StepMetrics[]> {
    const byStep = new Map<number, StepMetrics>();
    for (const event of await this.events(actor, jobId)) {
      if (event.type !== "metrics" || event.step === null) continue;
      const point: StepMetrics = { ...byStep.get(event.step), step: event.step };
      for (const key of ["trainLoss", "validLoss", "trainAccuracy", "validAccuracy"] as const) {
        if (event[key] !== null) point[key] = event[key];
      }
      byStep.set(event.step, point);
    }
    return [...byStep.values()].sort((a, b) => a.step - b.step);
  }
}

/** The preview's budget verdict and projected total again, with the month's spend as `spentUsd`. */
function budgetOf(preview: CostPreview, spentUsd: number) {
  const budget = checkBudget({
    budgetUsd: preview.monthlyBudgetUsd ?? undefined,
    enforcement: preview.budgetEnforcement,
    spentUsd,
    estimateUsd: preview.estimatedCostUsd ?? undefined,
  });
  return { budget, projectedTotalUsd: budget.projectedUsd ?? null };
}

/** Refuses a start the preview's budget verdict does not allow: over a block budget, or a warn one unconfirmed. */
function enforceBudget(preview: CostPreview, confirmed: boolean | undefined) {
  const verdict = preview.budget;
  const details = {
    estimatedCostUsd: preview.estimatedCostUsd,
    spentThisMonthUsd: preview.spentThisMonthUsd,
    monthlyBudgetUsd: preview.monthlyBudgetUsd,
    projectedTotalUsd: preview.projectedTotalUsd,
  };
  if (verdict.decision === "blocked") {
    throw new BudgetError(
      "budget_exceeded",
      `Budget exceeded: ${verdict.reason}. The project's budget is enforced (block).`,
      details,
    );
  }
  if (verdict.decision === "confirm" && !confirmed) {
    throw new BudgetError("confirmation_required", `Confirm to go on: ${verdict.reason}.`, details);
  }
}

/**
 * The dataset's validation, and the training part's size when a split holds some pairs out: ten pairs pass
 * validation, but with one held out the provider refuses the nine left ("must have at least 10 examples").
 */
function withSplitChecked(validation: ValidationResult, trainingExamples: number, split: number | undefined) {
  const errors = [...validation.errors];
  if (split && trainingExamples < MIN_TRAINING_PAIRS) {
    errors.push(
      `the training part of the split holds ${counted(trainingExamples, "example")}, and fine-tuning needs at least ${MIN_TRAINING_PAIRS}: hold fewer out (a smaller validation split), or add pairs`,
    );
  }
  return { valid: errors.length === 0 && validation.valid, errors };
}
