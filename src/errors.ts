/**
 * Every failure Earshot reports carries a literal code, so callers branch on the code,
 * users get a message written for them, and logs keep the cause.
 */
export type ErrorCode =
  | 'config_invalid'
  | 'not_found'
  | 'forbidden'
  | 'invalid_transition'
  | 'already_claimed'
  | 'not_claimed'
  | 'invalid_input'
  | 'conflict'
  | 'unknown_source'
  | 'bad_signature'
  | 'payload_too_large'
  | 'upstream_failed'
  | 'rate_limited'
  | 'timeout';

const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['upstream_failed', 'rate_limited', 'timeout']);

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Facts a caller can render or log (never secrets). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details ?? {};
  }

  /** Transient failures are worth retrying later; the rest are permanent. */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** Narrows an unknown thrown value to an AppError with the given code. */
export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}
