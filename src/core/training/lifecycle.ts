import type { TrainingJobStatus } from "../statuses.js";
import type { HostedProvider, ProviderError, StepMetrics } from "./provider.js";

/** The seed's lifecycle: `pending → uploading → validating → queued → training → completed`, or failed / cancelled. */
export const TERMINAL_TRAINING_STATUSES: ReadonlySet<TrainingJobStatus> = new Set([
  "completed",
  "failed",
  "cancelled",
]);

/** The seed's cancel conditions. */
export const CANCELLABLE_TRAINING_STATUSES: ReadonlySet<TrainingJobStatus> = new Set([
  "pending",
  "uploading",
  "validating",
  "queued",
  "training",
]);

export const isTerminal = (status: TrainingJobStatus) => TERMINAL_TRAINING_STATUSES.has(status);

export interface TrainingSettings {
  /** Seconds between two polls of a running job. */
  pollIntervalSeconds: number;
  /** Hours of tracking after which polling pauses; the job itself is not failed. */
  maxTrackingHours: number;
}

/** The seed's polling: every 30 s, for at most 6 h. */
export const TRAINING_DEFAULTS: TrainingSettings = { pollIntervalSeconds: 30, maxTrackingHours: 6 };

/** OpenAI takes no new fine-tuning jobs from this day on (SPEC §4.6). */
export const OPENAI_NO_NEW_JOBS_FROM = new Date("2027-01-06T00:00:00Z");
const OPENAI_CUTOFF_DAY = OPENAI_NO_NEW_JOBS_FROM.toISOString().slice(0, 10);
const OTHER_WAYS = "Train with Together AI (`--provider together`) or on your own GPU (`fineflow bundle`).";

/**
 * Why `provider` takes no new job at `now`, or undefined when it does: the one check both the cost preview
 * and the start make, so a preview never prices a job that cannot start.
 */
export function newJobsRefusal(provider: HostedProvider, now: Date): string | undefined {
  if (provider !== "openai" || now < OPENAI_NO_NEW_JOBS_FROM) return undefined;
  return `OpenAI takes no new fine-tuning jobs since ${OPENAI_CUTOFF_DAY}. ${OTHER_WAYS}`;
}

/** What a user should know before choosing `provider` at `now`: OpenAI's coming cutoff. */
export function providerWarnings(provider: HostedProvider, now: Date): string[] {
  if (provider !== "openai" || now >= OPENAI_NO_NEW_JOBS_FROM) return [];
  return [
    `OpenAI stops accepting new fine-tuning jobs on ${OPENAI_CUTOFF_DAY}; a job must be started before then. ${OTHER_WAYS}`,
  ];
}

/**
 * Tracking paused shows its reason after the progress line; a later pause replaces the reason, and a
 * resume removes it, so reasons never pile up ("— tracking paused: … — tracking paused: …").
 */
const PAUSED = " — tracking paused: ";
export const withoutPauseReason = (step: string) => step.split(PAUSED)[0] ?? step;
export const withPauseReason = (step: string, reason: string) =>
  `${withoutPauseReason(step)}${PAUSED}${reason}`;

const PROVIDER_NAMES: Record<HostedProvider, string> = { openai: "OpenAI", together: "Together AI" };

export interface Progress {
  progressPercent: number;
  currentStep: string;
}

const STATUS_TEXT: Record<TrainingJobStatus, string> = {
  pending: "Waiting to start",
  uploading: "Uploading the training file",
  validating: "The provider is validating the training file",
  queued: "Queued at the provider",
  training: "Training",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** What a job says between a cancel the provider took as a request and its stopping the job. */
export const CANCEL_REQUESTED = "Cancel requested; the cost is settled when the provider has stopped the job";

/** Never 100 before the provider says the job is completed. */
const stepPercent = (step: number, totalSteps: number) => Math.min(99, Math.floor((step / totalSteps) * 100));

/**
 * What a user sees of a job's progress: from the latest metrics step when there is one ("Step 120/300 —
 * train loss 0.8400"), else from the trained tokens (the seed's "Training... (15000 tokens trained)"),
 * else from the status. A provider status with no FineFlow equivalent (`paused`) is named as it is.
 */
export function describeProgress(input: {
  status: TrainingJobStatus;
  /** A provider word with no FineFlow equivalent (`paused`), shown beside the status. */
  unmappedProviderStatus?: string;
  /** A cancel is under way at the provider (see `ProviderJob.cancelling`). */
  cancelling?: boolean;
  latest?: StepMetrics;
  trainedTokens?: number | null;
  fineTunedModel?: string | null;
  errorMessage?: string | null;
}): Progress {
  const { status, latest } = input;
  if (status === "completed") {
    return {
      progressPercent: 100,
      currentStep: `Completed${input.fineTunedModel ? `: ${input.fineTunedModel}` : ""}`,
    };
  }
  if (status === "failed")
    return { progressPercent: 0, currentStep: `Failed: ${input.errorMessage ?? "unknown error"}` };
  if (status === "cancelled") {
    // Where the run stopped, not a progress line that reads as if it were still running.
    if (!latest?.totalSteps) return { progressPercent: 0, currentStep: "Cancelled" };
    return {
      progressPercent: stepPercent(latest.step, latest.totalSteps),
      currentStep: `Cancelled at step ${latest.step}/${latest.totalSteps}`,
    };
  }
  if (input.cancelling) {
    return {
      progressPercent: latest?.totalSteps ? stepPercent(latest.step, latest.totalSteps) : 0,
      currentStep: CANCEL_REQUESTED,
    };
  }
  const suffix = input.unmappedProviderStatus ? ` (provider status: ${input.unmappedProviderStatus})` : "";
  if (latest?.totalSteps && latest.totalSteps > 0) {
    const percent = stepPercent(latest.step, latest.totalSteps);
    const loss = latest.trainLoss === undefined ? "" : ` — train loss ${latest.trainLoss.toFixed(4)}`;
    return {
      progressPercent: percent,
      currentStep: `Step ${latest.step}/${latest.totalSteps}${loss}${suffix}`,
    };
  }
  if (status === "training" && input.trainedTokens) {
    return {
      progressPercent: 0,
      currentStep: `Training... (${input.trainedTokens} tokens trained)${suffix}`,
    };
  }
  return { progressPercent: 0, currentStep: `${STATUS_TEXT[status]}${suffix}` };
}

/**
 * The provider blames the uploaded data when it names a file parameter or gives an `invalid_…file` /
 * `invalid_…examples` code (OpenAI's codes; the Together adapter maps its bad-file failures to them).
 */
const DATA_PARAMS = new Set(["training_file", "validation_file"]);
const isDataProblem = (error: ProviderError) =>
  DATA_PARAMS.has(error.details.param ?? "") || /^invalid_.*(file|example)/.test(error.details.code ?? "");
const isModelProblem = (error: ProviderError) =>
  error.details.param === "model" || /model/.test(error.details.code ?? "");

/**
 * A provider's refusal or failure said plainly, with the next step; the dataset is blamed only when the
 * provider says the data is at fault. Never includes the key: adapters build their messages from the
 * provider's answer, which does not echo it.
 */
export function explainProviderError(error: ProviderError, context: { datasetName: string; model: string }) {
  const name = PROVIDER_NAMES[error.provider];
  // Providers end their messages with a period; this sentence adds its own.
  const said = error.message.trim().replace(/\.+$/, "");
  const exportHint = `train on your own GPU with \`fineflow bundle --dataset ${context.datasetName} --base-model <open model> --out ${context.datasetName}-bundle\` (Axolotl and LLaMA-Factory configs included)`;
  const validateHint = `Check the dataset with \`fineflow validate --dataset ${context.datasetName} --model ${context.model}\`.`;
  const modelHint = `Pick a model ${name} fine-tunes, or another provider.`;
  const param = error.details.param ? `\`${error.details.param}\` ` : "";
  switch (error.kind) {
    case "auth":
      return `${name} rejected the API key. Set a valid one with \`fineflow keys set ${error.provider}\` and start the job again.`;
    case "quota":
      return `${name} refused the job: the account is out of credit or over its quota (${said}). Add credit at ${name}, or ${exportHint}.`;
    case "not_allowed":
      return error.provider === "openai"
        ? `OpenAI did not allow fine-tuning for this account (${said}). OpenAI is winding self-serve fine-tuning down: closed to new users since 2026-05-07 and to new jobs for everyone from ${OPENAI_CUTOFF_DAY}. Train with Together AI instead (\`fineflow train --dataset ${context.datasetName} --provider together --model <Together model>\`), or ${exportHint}.`
        : `${name} did not allow this job (${said}). Try another model or provider, or ${exportHint}.`;
    case "invalid_request": {
      const next = isDataProblem(error)
        ? validateHint
        : isModelProblem(error)
          ? modelHint
          : `${param ? "Change that setting" : "Change the job's settings"} and start the job again.`;
      return `${name} refused the ${param}request: ${said}. ${next}`;
    }
    case "job_failed":
      if (isDataProblem(error))
        return `${name} could not train on the ${param}data: ${said}. ${validateHint}`;
      if (isModelProblem(error)) return `${name} could not train ${context.model}: ${said}. ${modelHint}`;
      return `The job failed at ${name}, on its side: ${said}. Start the job again; if it fails again, try another model or provider.`;
    case "not_found":
      return `${name} no longer knows this job or file (${said}).`;
    case "transient":
      return `${name} is unavailable for now (${said}); FineFlow will try again.`;
  }
}
