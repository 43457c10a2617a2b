const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else cannot name a row, so lookups answer "not found" without asking the database. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** The fewest leading hex digits that name a pair, as validation's messages show them (`a1b2c3d4…`). */
export const SHORT_ID_LENGTH = 8;

/** An id as people are shown it, `a1b2c3d4…`: its first digits tell pairs apart as a git short hash does. */
export function shortId(id: string): string {
  return id.length > SHORT_ID_LENGTH + 4 ? `${id.slice(0, SHORT_ID_LENGTH)}…` : id;
}

const HEX_DIGITS = /^[0-9a-f]+$/;

/**
 * The ids a full id or its first digits (at least `SHORT_ID_LENGTH`, as git takes a short hash) stand for:
 * every UUID from the lowest to the highest that begins so, which one indexed range finds. The "…" a
 * shortened id is printed with may be copied along, and hyphens are the reader's aid, not digits: the 9th
 * digit may follow the 8th directly. Undefined when it can begin no id.
 */
export function idRange(value: string): { low: string; high: string } | undefined {
  const digits = value
    .trim()
    .toLowerCase()
    .replace(/(?:…|\.\.\.)$/, "")
    .replaceAll("-", "");
  if (digits.length < SHORT_ID_LENGTH || digits.length > 32 || !HEX_DIGITS.test(digits)) return undefined;
  return { low: asUuid(digits.padEnd(32, "0")), high: asUuid(digits.padEnd(32, "f")) };
}

/** 32 hex digits in a UUID's 8-4-4-4-12 groups. */
function asUuid(digits: string): string {
  return digits.replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
}
