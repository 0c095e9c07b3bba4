import type { RequestHandler } from 'express';
import { hasPermission } from '../auth/principal.ts';
import { AppError } from '../shared/errors.ts';

/**
 * Route guard: 401 without credentials, 403 when the principal lacks the permission.
 * Routes name permissions, never roles. Object-level checks (is this *your* booking?) belong in
 * the domain query and answer 404, so other people's ids are indistinguishable from missing ones.
 */
export function requirePermission(permission: string): RequestHandler {
  return async (req, _res, next) => {
    const principal = req.principal;
    if (principal.kind === 'anonymous') {
      next(new AppError('unauthenticated', 'Sign in to continue.'));
      return;
    }
    if (!hasPermission(principal, permission)) {
      // Logged and written to the audit log (R10: every denial leaves a trace).
      await req.recordDenial?.(permission);
      next(new AppError('forbidden', 'You do not have permission to do this.'));
      return;
    }
    next();
  };
}

/** Any signed-in principal (user or service). */
export function requireAuthenticated(): RequestHandler {
  return (req, _res, next) => {
    if (req.principal.kind === 'anonymous') {
      next(new AppError('unauthenticated', 'Sign in to continue.'));
      return;
    }
    next();
  };
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Optional request-scoped logger (set by the logging middleware when available). */
    log?: { warn?: (obj: object, msg?: string) => void };
  }
}
