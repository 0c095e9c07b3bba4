import type { DB } from '@instainstru/db';
import jwt from 'jsonwebtoken';
import type { Kysely } from 'kysely';
import { AppError } from '../shared/errors.ts';
import type { AuthDeps } from './auth-deps.ts';
import { invalidToken, verifyAccessToken } from './own-tokens.ts';
import type { Principal } from './principal.ts';
import { matchServiceKey, SERVICE_KEY_PREFIX } from './service-keys.ts';

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]{1,8192})$/i;
const ON_BEHALF_OF = /^[\x20-\x7E]{1,256}$/;

function parseOnBehalfOf(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (!ON_BEHALF_OF.test(value)) {
    throw new AppError('bad_request', 'X-On-Behalf-Of must be 1–256 printable ASCII characters.', 'X-On-Behalf-Of');
  }
  return value.trim();
}

/**
 * The principal an `Authorization` header proves: a user (our own ES256 access token), or a
 * service (a client-credentials JWT from the configured OAuth2 server, or a development key).
 * `X-On-Behalf-Of` is kept on service principals for the audit trail and never authorizes.
 */
export async function resolvePrincipal(
  db: Kysely<DB>,
  authorization: string,
  onBehalfOfHeader: string | undefined,
  deps: AuthDeps,
): Promise<Principal> {
  const token = BEARER.exec(authorization.trim())?.[1];
  if (!token) throw invalidToken('Send credentials as "Authorization: Bearer <token>".');
  const onBehalfOf = parseOnBehalfOf(onBehalfOfHeader);

  if (token.startsWith(SERVICE_KEY_PREFIX)) {
    const service = matchServiceKey(deps.config.serviceKeys, token, onBehalfOf);
    if (!service) throw invalidToken('The service key is not valid.');
    return service;
  }

  // Unverified claims only choose which verifier runs; each verifier checks everything again.
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') throw invalidToken();
  const issuer = decoded.payload.iss;
  const now = deps.clock.now();

  if (issuer === deps.config.issuer) {
    const claims = verifyAccessToken(token, deps.keys, deps.config, now);
    return {
      kind: 'user',
      userId: claims.userId,
      roles: claims.roles,
      permissions: await deps.rolePermissions.permissionsFor(db, claims.roles),
      tokenId: claims.tokenId,
      sessionId: claims.sessionId,
    };
  }
  if (deps.verifyServiceJwt && issuer === deps.config.serviceJwt?.issuer) {
    return deps.verifyServiceJwt(token, decoded.header as unknown as Record<string, unknown>, onBehalfOf);
  }
  throw invalidToken();
}
