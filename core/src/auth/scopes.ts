/**
 * What each service scope (mcp-copilot.md) lets a service principal do, in API permissions. This
 * is the only place scopes meet permissions; routes keep checking permissions only.
 */
export const SCOPE_PERMISSIONS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  // jobs, observability, errors, metrics
  'ops:read': ['monitoring:access'],
  // alert silences, job retries
  'ops:write': ['jobs:retry'],
  // bookings, payments, users (masked), instructors, catalog, founding, invites, search analytics
  'admin:read': [
    'bookings:read:any',
    'payments:read:any',
    'users:read:any',
    'instructors:read:any',
    'invites:read',
    'founding:read',
    'search_analytics:read',
  ],
  // invites
  'admin:write': ['invites:send'],
  // unmasked e-mail addresses and phone numbers
  'pii:read': ['users:read:pii'],
});

/** The permissions a set of scopes grants; unknown scopes grant nothing. */
export function permissionsForScopes(scopes: readonly string[]): ReadonlySet<string> {
  return new Set(scopes.flatMap((scope) => SCOPE_PERMISSIONS[scope] ?? []));
}
