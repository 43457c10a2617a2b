/** The integrity violation (SQLSTATE class 23) a query failed with, if any; drizzle wraps the driver's error in `cause`. */
function violation(error: unknown): { code?: unknown; constraint?: unknown } | undefined {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === "string" && e.code.startsWith("23")) return e;
  }
  return undefined;
}

/** True when a query failed on a unique constraint. */
export function isUniqueViolation(error: unknown): boolean {
  return violation(error)?.code === "23505";
}

/** True when a query failed on the check constraint named `constraint`. */
export function isCheckViolation(error: unknown, constraint: string): boolean {
  const found = violation(error);
  return found?.code === "23514" && found.constraint === constraint;
}
