import { counted } from "../counted.js";
import { formatUsd } from "../money.js";
import type { BudgetEnforcement } from "../statuses.js";
import { type HostedProvider, togetherEvaluations } from "./provider.js";

/** Billable tokens × epochs × price per 1M tokens; undefined when the price is unknown. */
export function trainingCostUsd(trainingTokens: number, epochs: number, pricePerMillion: number | undefined) {
  if (pricePerMillion === undefined) return undefined;
  return (trainingTokens * epochs * pricePerMillion) / 1_000_000;
}

/**
 * How many passes over the validation file a run bills: Together bills each evaluation, OpenAI none (it
 * evaluates for free), and without a validation file there is nothing to evaluate.
 */
export function billedEvaluations(provider: HostedProvider, epochs: number, validationTokens: number) {
  return provider === "together" && validationTokens > 0 ? togetherEvaluations(epochs) : 0;
}

/**
 * What a preview bills, in words, as the CLI and the web app say it: "12,345 tokens × 3 epochs (auto) +
 * 1,234 validation tokens × 3 evaluations".
 */
export function billedTokensText(preview: {
  billableTokens: number;
  epochs: number;
  epochsSource: string;
  validationTokens: number;
  billedEvaluations: number;
}): string {
  const tokens = (n: number) => n.toLocaleString("en-US");
  const training = `${tokens(preview.billableTokens)} tokens × ${counted(preview.epochs, "epoch")} (${preview.epochsSource})`;
  if (preview.billedEvaluations === 0) return training;
  return `${training} + ${tokens(preview.validationTokens)} validation tokens × ${counted(preview.billedEvaluations, "evaluation")}`;
}

export interface BudgetInput {
  /** The project's monthly budget; undefined means none is set. */
  budgetUsd: number | undefined;
  enforcement: BudgetEnforcement;
  /** Spent and reserved this calendar month, generation included. */
  spentUsd: number;
  /** The new job's estimate; undefined when its price is unknown. */
  estimateUsd: number | undefined;
}

export type BudgetVerdict =
  | { decision: "allowed"; projectedUsd: number | undefined }
  /** `warn` enforcement: the job may start once the user confirms. */
  | { decision: "confirm"; projectedUsd: number | undefined; reason: string }
  /** `block` enforcement: the job may not start. */
  | { decision: "blocked"; projectedUsd: number | undefined; reason: string };

const usd = formatUsd;

/**
 * Dollars in the spend ledger's units (10 decimals): a sum of floats is off in its last bits, and a job
 * that exactly fills a budget ($0.10 spent + $0.20) must not read as over it ($0.30000000000000004).
 */
const ledgerUnits = (usd: number) => Math.round(usd * 1e10);

/**
 * The seed's budget guard. A job whose cost cannot be known is treated as one that may exceed the budget:
 * an unknown price must never pass a `block` budget silently.
 */
export function checkBudget(input: BudgetInput): BudgetVerdict {
  const projectedUsd = input.estimateUsd === undefined ? undefined : input.spentUsd + input.estimateUsd;
  if (input.budgetUsd === undefined) return { decision: "allowed", projectedUsd };
  let reason: string | undefined;
  if (projectedUsd === undefined) {
    reason = `the cost of this job is unknown, so it cannot be checked against the monthly budget of ${usd(input.budgetUsd)} (${usd(input.spentUsd)} spent so far)`;
  } else if (ledgerUnits(projectedUsd) > ledgerUnits(input.budgetUsd)) {
    reason = `this job (${usd(input.estimateUsd ?? 0)}) would bring the month's spend to ${usd(projectedUsd)}, over the budget of ${usd(input.budgetUsd)}`;
  }
  if (!reason) return { decision: "allowed", projectedUsd };
  return input.enforcement === "block"
    ? { decision: "blocked", projectedUsd, reason }
    : { decision: "confirm", projectedUsd, reason };
}

/** The first instant of the calendar month (UTC) that `now` falls in: budgets reset then. */
export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}
