// zod's messages in plain words, before anything is parsed.
import "../core/plain-issues.js";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError, type ErrorCode, ValidationError } from "../core/errors.js";
import type { Logger } from "../logger.js";

/** The one error shape every API answer uses. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  validation_error: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  budget_exceeded: 409,
  confirmation_required: 409,
  provider_error: 502,
  internal_error: 500,
};

export function errorBody(code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: details ? { code, message, details } : { code, message } };
}

/** The API's bodies are of two types; the route's own is in the OpenAPI document. */
const UNSUPPORTED_MEDIA_TYPE =
  "This route does not take a body of this type: uploads take multipart/form-data, everything else application/json";

/**
 * Turns whatever a handler threw into the error shape. Domain errors keep their message; anything else is
 * logged and answered with a generic message, so no stack trace or internal detail reaches a client.
 */
export function handleError(logger: Logger) {
  return (error: Error, c: Context) => {
    if (error instanceof AppError) {
      return c.json(errorBody(error.code, error.message, error.details), STATUS[error.code]);
    }
    if (error instanceof HTTPException && error.status === 415) {
      const sent = c.req.header("content-type") ?? "no Content-Type";
      return c.json(errorBody("unsupported_media_type", `${UNSUPPORTED_MEDIA_TYPE} (sent: ${sent})`), 415);
    }
    if (error instanceof HTTPException && error.status < 500) {
      return c.json(
        errorBody("bad_request", error.message || "The request could not be read."),
        error.status,
      );
    }
    logger.error("request failed", { method: c.req.method, path: c.req.path, error: error.message });
    return c.json(errorBody("internal_error", "Something went wrong on our side. Try again later."), 500);
  };
}

/**
 * zod-openapi's hook: bad params, query or body become a 400 naming each offending field. So does a NUL
 * character in any text that passed (a name, a filter), which PostgreSQL's text cannot hold: it failed in the
 * database, as an internal error. An upload's file names are checked where they are read (`uploadNames`).
 */
export function validationHook(
  result:
    | { success: true; data: unknown }
    | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } },
  c: Context,
) {
  const issues = result.success
    ? nulPaths(result.data, "").map((field) => ({ field, message: NUL_MESSAGE }))
    : result.error.issues.map((issue) => ({
        field: issue.path.map(String).join(".") || "body",
        message: issue.message,
      }));
  if (issues.length === 0) return;
  const error = new ValidationError(issues.map((i) => `${i.field}: ${i.message}`).join("; "), issues);
  return c.json(errorBody(error.code, error.message, error.details), 400);
}

const NUL_MESSAGE = "must not contain a NUL character (U+0000)";

/** Where in a value a string (or a key) holds a NUL, as "messages.0.content" (the value itself: "body"). */
function nulPaths(value: unknown, path: string): string[] {
  if (typeof value === "string") return value.includes("\0") ? [path || "body"] : [];
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    const at = path ? `${path}.${key}` : key;
    return key.includes("\0") ? [at] : nulPaths(inner, at);
  });
}
