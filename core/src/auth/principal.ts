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

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the authentication middleware for every request (anonymous when no credentials). */
    principal: Principal;
  }
}
