import { z } from "zod";

/**
 * What a check that carries no message of its own says, in the words FineFlow's own messages use ("must be
 * at most 2,000 characters"), not zod's ("Too big: expected string to have <=2000 characters"). Undefined
 * leaves zod's message, for issues with nothing better to say.
 */
export function plainIssue(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      // "must be a whole number, not a number" said nothing of what was wrong with 1.5.
      if (issue.expected === "int" && typeof issue.input === "number") {
        return `must be a whole number, not ${issue.input}`;
      }
      return `must be ${KINDS[issue.expected] ?? withArticle(issue.expected)}, not ${kindOf(issue.input)}`;
    case "too_big":
      return bound(issue.origin, "most", Number(issue.maximum), issue.inclusive !== false);
    case "too_small":
      return bound(issue.origin, "least", Number(issue.minimum), issue.inclusive !== false);
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`;
    case "invalid_format":
      return `must be ${FORMATS[issue.format] ?? `a valid ${issue.format}`}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "unrecognized_keys":
      return `has no field${issue.keys.length === 1 ? "" : "s"} ${issue.keys.map((key) => JSON.stringify(key)).join(", ")}`;
    default:
      return undefined;
  }
}

// zod's configuration is global: set here, it covers every schema, wherever it is built or parsed (the
// API's routes are checked by zod-openapi, which takes no per-parse options). Each module that turns issues
// into messages imports this one, so it is in force before the first parse.
z.config({ customError: plainIssue });

const KINDS: Readonly<Record<string, string>> = {
  int: "a whole number",
  bigint: "a whole number",
  boolean: "true or false",
  date: "a date",
};

const FORMATS: Readonly<Record<string, string>> = {
  uuid: "a UUID",
  email: "an email address",
  url: "a URL",
  datetime: "a date and time (ISO 8601)",
};

function bound(origin: string, side: "most" | "least", limit: number, inclusive: boolean): string {
  const figure = limit.toLocaleString("en-US");
  switch (origin) {
    case "string":
      if (side === "least" && limit === 1) return "must not be empty";
      return `must be at ${side} ${figure} character${limit === 1 ? "" : "s"}`;
    case "array":
    case "set":
      if (side === "least" && limit === 1) return "must not be empty";
      return `must hold at ${side} ${figure} item${limit === 1 ? "" : "s"}`;
    default:
      if (inclusive) return `must be at ${side} ${figure}`;
      return `must be ${side === "most" ? "less" : "more"} than ${figure}`;
  }
}

export function withArticle(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

/** What a JSON value is, in a phrase: "null", "an array", "a string". */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return withArticle(typeof value);
}
