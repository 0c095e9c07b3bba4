import type { Request, RequestHandler } from 'express';
import { type AuditContext, recordAudit } from '../audit/record-audit.ts';
import type { Caller } from '../auth/caller.ts';
import { keyedHash } from '../auth/crypto.ts';
import { ANONYMOUS, principalKey } from '../auth/principal.ts';
import { resolvePrincipal } from '../auth/resolve-principal.ts';
import { AppError } from '../shared/errors.ts';
import type { ApiDeps } from './deps.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** Who is acting, for `recordAudit` in routes: principal, request id, hashed IP. */
    auditContext: AuditContext;
    /** Logs and audits a permission denial (set by `authenticate`, called by `requirePermission`). */
    recordDenial?: (permission: string) => Promise<void>;
  }
}

/**
 * Resolves the caller's principal from `Authorization: Bearer …` (anonymous without the header).
 * A header that is present but invalid is always 401 — even on public routes — so a client
 * with a broken token finds out instead of silently acting as nobody. Tokens in query strings
 * are never read.
 */
export function authenticate(deps: ApiDeps): RequestHandler {
  return async (req, res, next) => {
    const ipHash = keyedHash(deps.auth.keys.hashingKey, 'ip', req.ip ?? req.socket.remoteAddress ?? 'unknown');
    req.principal = ANONYMOUS;
    req.auditContext = { principal: ANONYMOUS, requestId: req.requestId, ipHash };
    req.recordDenial = async (permission) => {
      const where = `${req.method} ${req.baseUrl}${req.route?.path ?? req.path}`;
      deps.logger.warn({ requestId: req.requestId, principal: principalKey(req.principal), permission, route: where }, 'permission denied');
      // An audit row that cannot be written must not turn a 403 into a 500: the log line stands.
      await recordAudit(deps.database.db, req.auditContext, {
        action: 'rbac.denied',
        resourceType: 'route',
        resourceId: where,
        outcome: 'denied',
        metadata: { permission },
      }).catch((error: unknown) => deps.logger.error({ err: error, requestId: req.requestId }, 'could not audit a permission denial'));
    };

    const authorization = req.get('authorization');
    if (authorization === undefined) {
      next();
      return;
    }
    const principal = await resolvePrincipal(deps.database.db, authorization, req.get('x-on-behalf-of'), deps.auth).catch(
      (error: unknown) => {
        if (error instanceof AppError && error.status === 401) {
          res.setHeader('WWW-Authenticate', 'Bearer realm="instainstru", error="invalid_token"');
        }
        throw error;
      },
    );
    req.principal = principal;
    req.auditContext = { ...req.auditContext, principal };
    next();
  };
}

/** The caller as identity use cases need it: audit context, hashed IP, user agent. */
export function callerOf(req: Request): Caller {
  return {
    audit: req.auditContext,
    ipHash: req.auditContext.ipHash ?? 'unknown',
    userAgent: req.get('user-agent') ?? null,
  };
}
