/** The web app's only way to FineFlow: the HTTP API, with the session cookie. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The API's `error.code`, e.g. `budget_exceeded` or `confirmation_required`. */
    readonly code?: string,
    /** The fields a `validation_error` is about (`details.issues`), so that a form can tell which it was. */
    readonly issues: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** Told of every 401: the session is over (signed out in another tab, or expired), so App shows the sign-in page. */
let signedOut = () => {};
export function onSignedOut(listener: () => void) {
  signedOut = listener;
}

/** A request to the API; no answer at all is thrown as an ApiError. */
async function request(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, { ...init, credentials: "same-origin" });
  } catch {
    // fetch rejects only when no answer came at all; its "Failed to fetch" says nothing a user can act on.
    throw new ApiError(0, "Cannot reach the FineFlow server. Is it still running?");
  }
}

/** A refusal as an ApiError; a 401 also tells App that the session is over. */
async function refusal(response: Response): Promise<ApiError> {
  // A proxy's error page has no JSON: the status then describes it.
  const data = await response.json().catch(() => undefined);
  if (response.status === 401) signedOut();
  const error = data?.error;
  return new ApiError(
    response.status,
    error?.message ?? `HTTP ${response.status}`,
    error?.code,
    error?.details?.issues,
  );
}

/** A request to the API, answered with its JSON; a refusal, or no answer at all, is thrown as an ApiError. */
async function send<T>(path: string, init: RequestInit): Promise<T> {
  const response = await request(path, init);
  if (!response.ok) throw await refusal(response);
  // An empty answer (204) has no JSON.
  return (await response.json().catch(() => undefined)) as T;
}

export const api = <T>(method: string, path: string, body?: unknown): Promise<T> =>
  send<T>(path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** A multipart upload (files), answered like `api`. */
export const upload = <T>(path: string, form: FormData): Promise<T> =>
  send<T>(path, { method: "POST", body: form });

/**
 * Saves a file the API sends (an export) under the server's name. Fetched rather than linked to: a plain link
 * saves a refusal (the session over, a bad option) as the file, and the page says nothing.
 */
export async function download(path: string): Promise<void> {
  const response = await request(path, {});
  if (!response.ok) throw await refusal(response);
  const disposition = response.headers.get("content-disposition") ?? "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "export.jsonl";
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  link.click();
  // Not at once: the browser may still be reading the blob to save it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
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
  /** Chunking and de-duplication: they apply to documents processed after a change. */
  chunkTargetTokens: number;
  chunkOverlapTokens: number;
  /** Jaccard similarity from which a chunk is marked a near-duplicate. */
  duplicateThreshold: number;
  createdAt: string;
  updatedAt: string;
}

/** Whether a provider key is set, and its last four characters: the key itself never comes back. */
export interface ApiKeyStatus {
  provider: "openai" | "together" | "llm";
  set: boolean;
  last4?: string;
  updatedAt?: string;
}

/** The server's export formats (and dataset formats). */
export const EXPORT_FORMATS = ["openai", "anthropic", "anthropic-bedrock", "alpaca", "sharegpt"] as const;

export interface Dataset {
  id: string;
  projectId: string;
  name: string;
  format: string;
  mode: string;
  status: "generating" | "ready" | "training" | "failed";
  systemPrompt: string | null;
  error: string | null;
  progress?: { totalChunks: number; done: number; failed: number; skipped: number; pairs: number };
}

export interface ProjectDocument {
  id: string;
  name: string;
  type: string;
  sizeBytes: number;
  status: "pending" | "processing" | "ready" | "failed";
  error: string | null;
  chunkCount: number;
  duplicateChunks: number;
  flaggedChunks: number;
  /** The project's chunking when the document was sent, which it is processed with. */
  chunkTargetTokens: number;
  chunkOverlapTokens: number;
  duplicateThreshold: number;
  createdAt: string;
}

/** What an upload did with one file: `queued` to be processed, `unchanged` (already there), or `failed`. */
export interface IngestResult {
  name: string;
  documentId: string;
  outcome: "queued" | "unchanged" | "failed";
  error: string | null;
}

export interface PairMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface Pair {
  id: string;
  updatedAt: string;
  messages: PairMessage[];
  status: "accepted" | "rejected";
  rejectionReason: string | null;
  qualityScore: number | null;
  tokenCount: number | null;
  isValid: boolean;
}

/** The seed's ValidationResult, as the API sends it. */
export interface ValidationResult {
  valid: boolean;
  errors: string[];
  warnings: string[];
  /** Each error and warning with the pairs it is about. */
  issues: { severity: "error" | "warning"; message: string; pairIds: string[] }[];
  stats: {
    totalPairs: number;
    avgTokensPerPair: number;
    avgQualityScore: number | null;
    uniqueQuestions: number;
    tokens: { min: number; p50: number; p95: number; max: number };
    billableTokens: number;
    recommendedEpochs: number;
    model: string;
  };
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
  validationTokens: number;
  epochs: number;
  billedEvaluations: number;
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
  warnings: string[];
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
