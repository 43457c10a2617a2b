/**
 * Dollars as a person reads them: cents for ordinary amounts, two significant digits for the fractions of
 * a cent a small fine-tuning job costs (so a real cost never shows as "$0.00"), "unknown" for null.
 */
export function usd(amount: number | null | undefined): string {
  if (amount === null || amount === undefined) return "unknown";
  if (amount === 0 || Math.abs(amount) >= 0.01) return `$${amount.toFixed(2)}`;
  const digits = Math.min(8, 1 - Math.floor(Math.log10(Math.abs(amount))));
  const text = amount.toFixed(digits).replace(/0+$/, "");
  return /[1-9]/.test(text) ? `$${text}` : "less than $0.00000001";
}
