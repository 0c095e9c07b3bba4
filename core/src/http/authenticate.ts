import type { RequestHandler } from 'express';
import { ANONYMOUS } from '../auth/principal.ts';
import type { ApiDeps } from './deps.ts';

/**
 * Resolves the caller's principal from the Authorization header (anonymous without one).
 * Placeholder until identity lands: every caller is anonymous.
 */
export function authenticate(_deps: ApiDeps): RequestHandler {
  return (req, _res, next) => {
    req.principal = ANONYMOUS;
    next();
  };
}
