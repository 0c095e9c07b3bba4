/**
 * Domain errors are data: a stable machine code, a sentence a person can act on, and the input
 * field at fault. The one HTTP error handler (http/error-handler.ts) maps codes to statuses; the
 * MCP layer maps the same codes to `isError` results with a recovery hint.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  /** A webhook whose signature does not verify (bad secret, too old, body changed). */
  invalid_signature: 400,
  validation_error: 422,
  invalid_reference: 422,
  unauthenticated: 401,
  invalid_token: 401,
  two_factor_required: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  already_exists: 409,
  slot_unavailable: 409,
  student_double_booked: 409,
  stale_version: 409,
  idempotency_key_reused: 409,
  idempotency_in_progress: 409,
  in_use: 409,
  /** The card was declined or needs its holder (3-D Secure) — a business outcome, not a fault. */
  card_declined: 402,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
  database_unavailable: 503,
  timeout: 503,
  contention: 503,
  deadline_exceeded: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly field: string | null = null,
    /** Seconds a client should wait before retrying (429 and 503 answers carry `Retry-After`). */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(detail);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function notFound(what: string, field: string | null = null): AppError {
  return new AppError('not_found', `${what} was not found.`, field);
}
