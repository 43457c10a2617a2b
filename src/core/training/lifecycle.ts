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

/**
 * What a user sees of a job's progress: from the latest metrics step when there is one ("Step 120/300 —
 * train loss 0.8400"), else from the trained tokens (the seed's "Training... (15000 tokens trained)"),
 * else from the status. A provider status with no FineFlow equivalent (`paused`) is named as it is.
 */
export function describeProgress(input: {
  status: TrainingJobStatus;
  /** A provider word with no FineFlow equivalent (`paused`), shown beside the status. */
  unmappedProviderStatus?: string;
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
  const suffix = input.unmappedProviderStatus ? ` (provider status: ${input.unmappedProviderStatus})` : "";
  if (latest?.totalSteps && latest.totalSteps > 0) {
    const percent = Math.min(99, Math.floor((latest.step / latest.totalSteps) * 100));
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
 * A provider's refusal said plainly, with the next step. Never includes the key: adapters build their
 * messages from the provider's answer, which does not echo it.
 */
export function explainProviderError(error: ProviderError, context: { datasetName: string; model: string }) {
  const name = PROVIDER_NAMES[error.provider];
  const exportHint = `train on your own GPU with \`fineflow bundle --dataset ${context.datasetName} --base-model <open model> --out ${context.datasetName}-bundle\` (Axolotl and LLaMA-Factory configs included)`;
  switch (error.kind) {
    case "auth":
      return `${name} rejected the API key. Set a valid one with \`fineflow keys set ${error.provider}\` and start the job again.`;
    case "quota":
      return `${name} refused the job: the account is out of credit or over its quota (${error.message}). Add credit at ${name}, or ${exportHint}.`;
    case "not_allowed":
      return error.provider === "openai"
        ? `OpenAI did not allow fine-tuning for this account (${error.message}). OpenAI is winding self-serve fine-tuning down: closed to new users since 2026-05-07 and to new jobs for everyone from 2027-01-06. Train with Together AI instead (\`fineflow train --provider together\`), or ${exportHint}.`
        : `${name} did not allow this job (${error.message}). Try another model or provider, or ${exportHint}.`;
    case "invalid_request":
      return `${name} refused the ${error.details.param ? `\`${error.details.param}\` ` : ""}request: ${error.message}. Check the dataset with \`fineflow validate --dataset ${context.datasetName} --model ${context.model}\`.`;
    case "not_found":
      return `${name} no longer knows this job or file (${error.message}).`;
    case "transient":
      return `${name} is unavailable for now (${error.message}); FineFlow will try again.`;
  }
}
