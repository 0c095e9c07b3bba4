import { createHash } from 'node:crypto';
import type { ServicePrincipal } from './principal.ts';
import type { ServiceKeyConfig } from './auth-config.ts';
import { constantTimeEqual } from './crypto.ts';
import { permissionsForScopes } from './scopes.ts';

/** Development service keys are presented as `Authorization: Bearer ii_sk_<random>`. */
export const SERVICE_KEY_PREFIX = 'ii_sk_';

/**
 * The service a development key belongs to, or undefined. Only hashes are configured; every
 * configured hash is compared (in constant time) so the answer's timing reveals nothing.
 */
export function matchServiceKey(
  keys: readonly ServiceKeyConfig[],
  presented: string,
  onBehalfOf: string | null,
): ServicePrincipal | undefined {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  let found: ServiceKeyConfig | undefined;
  for (const key of keys) {
    if (constantTimeEqual(key.sha256, digest)) found ??= key;
  }
  if (!found) return undefined;
  return { kind: 'service', serviceId: found.name, scopes: found.scopes, permissions: permissionsForScopes(found.scopes), onBehalfOf };
}
