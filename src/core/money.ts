/**
 * Dollars as people read them, in the CLI and the web app alike: "unknown" for a price not known (never
 * $0); at least cents; and up to six significant digits, so that a fine-tuning job's fractions of a cent
 * never read "$0.00", a budget of $0.018 reads as given, and a spend over a budget by a thousandth of a
 * cent no longer prints as equal to it (to cents: "would bring the month's spend to $0.02, over the budget
 * of $0.02").
 */
export function formatUsd(amount: number | null | undefined): string {
  if (amount === null || amount === undefined) return "unknown";
  if (amount === 0) return "$0.00";
  const size = Math.abs(amount);
  const decimals = Math.min(12, Math.max(2, SIGNIFICANT_DIGITS - 1 - Math.floor(Math.log10(size))));
  const [whole, fraction = ""] = size.toFixed(decimals).split(".");
  return `${amount < 0 ? "-" : ""}$${whole}.${fraction.replace(/0+$/, "").padEnd(2, "0")}`;
}

const SIGNIFICANT_DIGITS = 6;
