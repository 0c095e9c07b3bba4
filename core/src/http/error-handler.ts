import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import { principalKey } from '../auth/principal.ts';
import { AppError, type ErrorCode } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { NO_ERROR_REPORTER, type ErrorReporter } from '../observability/sentry.ts';

/** The body of every error answer. */
export interface ErrorBody {
  detail: string;
  code: string;
  field: string | null;
}

/** Constraint names → the message a person understands (and the field at fault). */
const CONSTRAINT_MESSAGES: Record<string, { code: ErrorCode; detail: string; field: string | null }> = {
  users_email_lower_key: { code: 'already_exists', detail: 'An account with this email already exists.', field: 'email' },
  bookings_instructor_no_overlap_after: {
    code: 'slot_unavailable',
    detail: 'That time is no longer available with this instructor. Please pick another time.',
    field: 'startsAt',
  },
  bookings_instructor_no_overlap_before: {
    code: 'slot_unavailable',
    detail: 'That time is no longer available with this instructor. Please pick another time.',
    field: 'startsAt',
  },
  bookings_student_no_overlap: { code: 'student_double_booked', detail: 'You already have a lesson at that time.', field: 'startsAt' },
};

interface PgError {
  code?: string;
  constraint?: string;
  detail?: string;
  column?: string;
}

/** Translates PostgreSQL SQLSTATEs (and driver connection failures) into AppErrors. */
export function translateDatabaseError(error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const pgError = error as PgError & { message?: string };
  const known = pgError.constraint ? CONSTRAINT_MESSAGES[pgError.constraint] : undefined;
  switch (pgError.code) {
    case '23P01':
      return known
        ? new AppError(known.code, known.detail, known.field)
        : new AppError('slot_unavailable', 'That time overlaps another booking.', null);
    case '23505':
      return known ? new AppError(known.code, known.detail, known.field) : new AppError('already_exists', 'That already exists.', null);
    case '23503':
      return pgError.detail?.includes('is still referenced')
        ? new AppError('in_use', 'This is still in use by other records and cannot be removed.', null)
        : new AppError('invalid_reference', 'A referenced record does not exist.', pgError.column ?? null);
    case '23514':
    case '22P02':
    case '22007':
    case '22008':
      return new AppError('validation_error', 'A value is outside what is allowed.', pgError.column ?? null);
    case '40001':
    case '40P01':
      return new AppError('contention', 'The system is busy with a conflicting change; please retry.', null, 1);
    case '57014':
      return new AppError('timeout', 'The request took too long and was stopped; please retry.', null, 2);
    case '57P01':
    case '57P02':
    case '57P03':
    case '53300':
      return new AppError('database_unavailable', 'The database is temporarily unavailable; please retry shortly.', null, 5);
    default:
      break;
  }
  if (pgError.code?.startsWith('08')) {
    return new AppError('database_unavailable', 'The database is temporarily unavailable; please retry shortly.', null, 5);
  }
  const message = pgError.message ?? '';
  if (
    /Connection terminated|connection timeout|ECONNREFUSED|ECONNRESET|Query read timeout|timeout exceeded when trying to connect/i.test(
      message,
    )
  ) {
    return new AppError('database_unavailable', 'The database is temporarily unavailable; please retry shortly.', null, 5);
  }
  return undefined;
}

function fromZod(error: ZodError): AppError {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : null;
  let detail = issue?.message ?? 'Invalid input.';
  if (issue?.code === 'unrecognized_keys') {
    const keys = (issue as { keys?: string[] }).keys ?? [];
    detail = `Unknown field${keys.length > 1 ? 's' : ''}: ${keys.join(', ')}.`;
    // a nested unknown key is named by its full path (`policies.search`), like other fields
    return new AppError('validation_error', detail, keys[0] === undefined ? field : [...(issue.path ?? []), keys[0]].join('.'));
  }
  return new AppError('validation_error', field ? `${field}: ${detail}` : detail, field);
}

/** body-parser errors carry a `type`; map the ones a client can fix. */
function fromBodyParser(error: { type?: string; status?: number }): AppError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new AppError('bad_request', 'The request body is not valid JSON.', null);
    case 'entity.too.large':
      return new AppError('payload_too_large', 'The request body is too large.', null);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported_media_type', 'Send the body as UTF-8 JSON.', null);
    default:
      return undefined;
  }
}

/** Turns anything thrown into `{detail, code, field}` with the right status. */
export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof ZodError) return fromZod(error);
  if (typeof error === 'object' && error !== null && 'type' in error) {
    const fromParser = fromBodyParser(error as { type?: string });
    if (fromParser) return fromParser;
  }
  return translateDatabaseError(error);
}

/** The one error handler. Routes never catch to re-shape errors. Unexpected errors also go to the reporter (Sentry). */
export function errorHandler(logger: Logger, reporter: ErrorReporter = NO_ERROR_REPORTER): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const appError = toAppError(error);
    const requestId = res.getHeader('x-request-id');
    if (!appError) {
      logger.error({ err: error, requestId, method: req.method, url: req.originalUrl }, 'unhandled error');
      reporter.capture(error, {
        requestId: typeof requestId === 'string' ? requestId : undefined,
        method: req.method,
        route: res.locals.routeTemplate,
        principal: req.principal ? principalKey(req.principal) : null,
      });
    } else if (appError.status >= 500) {
      logger.warn(
        { code: appError.code, requestId, method: req.method, url: req.originalUrl, cause: (error as Error).message },
        appError.detail,
      );
    }
    const final = appError ?? new AppError('internal_error', 'Something went wrong on our side. The error was logged; please try again.');
    if (res.headersSent) return;
    if (final.retryAfterSeconds !== null) res.setHeader('Retry-After', String(final.retryAfterSeconds));
    const body: ErrorBody = { detail: final.detail, code: final.code, field: final.field };
    res.status(final.status).json(body);
  };
}
