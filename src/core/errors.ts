/**
 * The errors the domain speaks. Services throw these; only the transports (HTTP, CLI) turn them into
 * status codes or exit codes. Their messages are written for the user and never carry secrets.
 */
export type ErrorCode =
  | "validation_error"
  | "unauthorized"
  | "not_found"
  | "conflict"
  /** A `block` budget refuses the job. */
  | "budget_exceeded"
  /** A `warn` budget: the same request succeeds once the user confirms. */
  | "confirmation_required"
  /** An outside provider refused or failed; the message says what to do next. */
  | "provider_error"
  | "internal_error";

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export interface FieldIssue {
  field: string;
  message: string;
}

/** Bad input. `issues` name each offending field, so a client can point at it. */
export class ValidationError extends AppError {
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super("validation_error", message, issues.length > 0 ? { issues } : undefined);
  }

  static forField(field: string, message: string): ValidationError {
    return new ValidationError(`${field}: ${message}`, [{ field, message }]);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = "Sign in or send an API token.") {
    super("unauthorized", message);
  }
}

/** Also what another user's resource answers: its existence is not revealed. */
export class NotFoundError extends AppError {
  constructor(resource: string, id: string) {
    super("not_found", `${resource} ${id} was not found.`, { resource, id });
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("conflict", message, details);
  }
}

/** The budget guard's answer: blocked outright, or allowed only once the user confirms. */
export class BudgetError extends AppError {
  constructor(
    code: "budget_exceeded" | "confirmation_required",
    message: string,
    details: Record<string, unknown>,
  ) {
    super(code, message, details);
  }
}

export class ProviderRefusedError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("provider_error", message, details);
  }
}
