// zod's messages in plain words, before anything is parsed.
import "../core/plain-issues.js";
import type { z } from "zod";
import { ValidationError } from "../core/errors.js";

/** Parses input with a core schema, turning zod's issues into one `ValidationError` naming each field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    field: issue.path.join(".") || "body",
    message: issue.message,
  }));
  throw new ValidationError(issues.map((i) => `${i.field}: ${i.message}`).join("; "), issues);
}
