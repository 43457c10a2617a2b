/** The web app's only way to FineFlow: the HTTP API, with the session cookie. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The API's `error.code`, e.g. `budget_exceeded` or `confirmation_required`. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    throw new ApiError(response.status, data?.error?.message ?? `HTTP ${response.status}`, data?.error?.code);
  }
  return data as T;
}

export interface User {
  id: string;
  email: string;
  isLocalOwner: boolean;
}

export interface Project {
  id: string;
  name: string;
  description: string;
  monthlyBudgetUsd: number | null;
  budgetEnforcement: "warn" | "block";
  createdAt: string;
}

/** Whether a provider key is set, and its last four characters: the key itself never comes back. */
export interface ApiKeyStatus {
  provider: "openai" | "together" | "llm";
  set: boolean;
  last4?: string;
  updatedAt?: string;
}

export interface Dataset {
  id: string;
  projectId: string;
  name: string;
  status: "generating" | "ready" | "training" | "failed";
}

export type TrainingProvider = "openai" | "together";

export interface TrainingRequest {
  datasetId: string;
  provider: TrainingProvider;
  model: string;
  epochs?: number;
  validationSplit?: number;
  suffix?: string;
}

/** The seed's Cost Preview; `estimatedCostUsd: null` means unknown, never $0. */
export interface CostPreview {
  trainingExamples: number;
  validationExamples: number;
  billableTokens: number;
  epochs: number;
  epochsSource: "auto" | "requested";
  pricePerMillionUsd: number | null;
  priceSource: "price table" | "unknown";
  estimatedCostUsd: number | null;
  spentThisMonthUsd: number;
  monthlyBudgetUsd: number | null;
  budgetEnforcement: "warn" | "block";
  projectedTotalUsd: number | null;
  budget: { decision: "allowed" | "confirm" | "blocked"; reason?: string };
  validation: { valid: boolean; errors: string[] };
}

export type TrainingJobStatus =
  | "pending"
  | "uploading"
  | "validating"
  | "queued"
  | "training"
  | "completed"
  | "failed"
  | "cancelled";

export interface TrainingJob {
  id: string;
  projectId: string;
  datasetId: string;
  provider: TrainingProvider | "local";
  baseModel: string;
  status: TrainingJobStatus;
  providerStatus: string | null;
  suffix: string | null;
  fineTunedModel: string | null;
  progressPercent: number;
  currentStep: string | null;
  estimatedCostUsd: number | null;
  actualCostUsd: number | null;
  errorMessage: string | null;
  trackingPaused: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface LossPoint {
  step: number;
  trainLoss?: number;
  validLoss?: number;
}
