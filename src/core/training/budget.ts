import type { BudgetEnforcement } from "../statuses.js";

/** Billable tokens × epochs × price per 1M tokens; undefined when the price is unknown. */
export function trainingCostUsd(trainingTokens: number, epochs: number, pricePerMillion: number | undefined) {
  if (pricePerMillion === undefined) return undefined;
  return (trainingTokens * epochs * pricePerMillion) / 1_000_000;
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

/** Dollars to the cent, or to four significant digits below a cent, so a tiny amount never reads $0.00. */
export function formatUsd(amount: number): string {
  const abs = Math.abs(amount);
  return abs === 0 || abs >= 0.01 ? `$${amount.toFixed(2)}` : `$${Number(amount.toPrecision(4))}`;
}
const usd = formatUsd;

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
  } else if (projectedUsd > input.budgetUsd) {
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
