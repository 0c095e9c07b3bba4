import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

declare module 'express-serve-static-core' {
  interface Request {
    /** Correlates logs, audit records and the client's report. */
    requestId: string;
    /** Aborted when the request's deadline passes or the client goes away. */
    signal: AbortSignal;
  }
}

/** Request id (trusted from the caller only when well-formed), echoed in `X-Request-Id`. */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    req.requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.requestId);
    next();
  };
}

/**
 * Per-request deadline: when it passes, the request gets 503 `deadline_exceeded` and its signal
 * aborts so work in progress can stop. Database statements are bounded separately by
 * statement_timeout; this is the outer guarantee that no request outlives its deadline.
 */
export function deadline(timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const controller = new AbortController();
    req.signal = controller.signal;
    const timer = setTimeout(() => {
      controller.abort(new AppError('deadline_exceeded', 'The request took too long.'));
      if (!res.headersSent) {
        res.setHeader('Retry-After', '2');
        res
          .status(503)
          .json({ detail: 'The request took too long and was stopped; please retry.', code: 'deadline_exceeded', field: null });
      }
    }, timeoutMs);
    timer.unref();
    const done = () => clearTimeout(timer);
    res.on('finish', done);
    res.on('close', () => {
      done();
      if (!res.writableFinished) controller.abort(new AppError('bad_request', 'The client closed the connection.'));
    });
    next();
  };
}

/** One log line per request: method, route, status, duration. No bodies, no tokens. */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'warn' : 'info';
      logger[level](
        {
          requestId: req.requestId,
          method: req.method,
          url: req.originalUrl.split('?')[0],
          route: req.route?.path,
          status: res.statusCode,
          durationMs: Math.round(durationMs * 10) / 10,
        },
        'request',
      );
    });
    next();
  };
}

/** Unsafe methods must send JSON (or nothing); anything else is 415, before any route runs. */
export function requireJsonBodies(): RequestHandler {
  return (req, _res, next) => {
    if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method)) {
      const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
      if (hasBody && !req.is('application/json')) {
        next(new AppError('unsupported_media_type', 'Send the request body as application/json.'));
        return;
      }
    }
    next();
  };
}
