import { AppError } from '../shared/errors.ts';

/**
 * Who is calling. A principal is a signed-in user (with roles) or a service (with scopes, e.g. the
 * MCP server), or anonymous. Permissions are resolved once per request from the role/scope
 * tables; routes check permissions with `requirePermission`, never role names.
 */
export type Principal = UserPrincipal | ServicePrincipal | AnonymousPrincipal;

export interface UserPrincipal {
  kind: 'user';
  userId: string;
  roles: readonly string[];
  permissions: ReadonlySet<string>;
  /** Access-token id (jti), for logout and audit. */
  tokenId: string | null;
  /** The sign-in session (refresh-token family) the access token belongs to. */
  sessionId?: string | null;
}

export interface ServicePrincipal {
  kind: 'service';
  /** The OAuth2 client id or service-key name, e.g. "mcp-server". */
  serviceId: string;
  scopes: readonly string[];
  permissions: ReadonlySet<string>;
  /** The human the service acts for (audit trail only; never used for authorization). */
  onBehalfOf: string | null;
}

export interface AnonymousPrincipal {
  kind: 'anonymous';
  permissions: ReadonlySet<string>;
}

export const ANONYMOUS: AnonymousPrincipal = Object.freeze({ kind: 'anonymous', permissions: new Set<string>() });

/** A stable identifier for rate limits, idempotency keys and audit records. */
export function principalKey(principal: Principal): string | null {
  switch (principal.kind) {
    case 'user':
      return `user:${principal.userId}`;
    case 'service':
      return `service:${principal.serviceId}`;
    default:
      return null;
  }
}

export function hasPermission(principal: Principal, permission: string): boolean {
  return principal.permissions.has(permission);
}

/**
 * The signed-in user, for routes about "your own" things. Services have no own-account
 * permissions, so behind `requirePermission('profile:…:own')` this never throws in practice.
 */
export function requireUser(principal: Principal): UserPrincipal {
  if (principal.kind !== 'user') throw new AppError('forbidden', 'Only a signed-in user can do this.');
  return principal;
}

/** A user as the actor of an audit record, before they hold a token (sign-in, registration). */
export function userActor(userId: string, roles: readonly string[] = []): UserPrincipal {
  return { kind: 'user', userId, roles, permissions: new Set(), tokenId: null };
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the authentication middleware for every request (anonymous when no credentials). */
    principal: Principal;
  }
}
