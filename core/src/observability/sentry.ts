import * as Sentry from '@sentry/node';
import type { Logger } from '../shared/logger.ts';

/** Where unexpected errors go besides the log: Sentry when configured, nowhere otherwise. */
export interface ErrorReporter {
  readonly enabled: boolean;
  capture(error: unknown, context: ErrorContext): void;
  /** Sends what is queued; resolves false if that took longer than `timeoutMs`. */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Sends what is queued (bounded wait) and stops reporting. */
  close(timeoutMs?: number): Promise<void>;
}

export interface ErrorContext {
  requestId?: string | undefined;
  method?: string | undefined;
  /** The route template, never the raw URL (ids and query strings stay out of Sentry). */
  route?: string | undefined;
  /** `user:<id>` / `service:<id>`; no names, emails or IPs. */
  principal?: string | null | undefined;
}

export const NO_ERROR_REPORTER: ErrorReporter = Object.freeze({
  enabled: false,
  capture() {},
  flush: async () => true,
  close: async () => {},
});

const SECRET_HEADERS = ['authorization', 'cookie', 'set-cookie', 'x-api-key', 'idempotency-key'];

/**
 * Starts Sentry when a DSN is configured (errors, and traces at `tracesSampleRate`; release =
 * GIT_SHA). Sentry's client is process-wide, so call this once per process. Request bodies,
 * cookies and credential headers are stripped before anything leaves the process.
 */
export function initErrorReporting(
  options: { dsn: string | undefined; release: string | undefined; environment: string; tracesSampleRate: number },
  logger: Logger,
): ErrorReporter {
  if (!options.dsn) return NO_ERROR_REPORTER;
  Sentry.init({
    dsn: options.dsn,
    ...(options.release ? { release: options.release } : {}),
    environment: options.environment,
    tracesSampleRate: options.tracesSampleRate,
    // The SDK collects bodies, cookies, headers, query strings and query parameters by default;
    // none of those may leave the process (passwords, tokens, contact details).
    dataCollection: {
      userInfo: false,
      cookies: false,
      httpHeaders: { request: { deny: SECRET_HEADERS }, response: false },
      httpBodies: [],
      urlQueryParams: false,
      databaseQueryData: false,
      queues: false,
    },
    beforeSend(event) {
      if (event.request) {
        delete event.request.data;
        delete event.request.cookies;
        for (const name of Object.keys(event.request.headers ?? {})) {
          if (SECRET_HEADERS.includes(name.toLowerCase())) delete event.request.headers?.[name];
        }
      }
      return event;
    },
  });
  logger.info({ release: options.release ?? null, tracesSampleRate: options.tracesSampleRate }, 'error reporting to Sentry is on');
  return {
    enabled: true,
    capture(error, context) {
      Sentry.withScope((scope) => {
        if (context.requestId) scope.setTag('request_id', context.requestId);
        if (context.method) scope.setTag('http.method', context.method);
        if (context.route) scope.setTag('route', context.route);
        if (context.principal) scope.setUser({ id: context.principal });
        Sentry.captureException(error);
      });
    },
    flush: (timeoutMs = 2_000) => Sentry.flush(timeoutMs),
    async close(timeoutMs = 2_000) {
      await Sentry.close(timeoutMs);
    },
  };
}
