import jwt from 'jsonwebtoken';
import jwksRsa from 'jwks-rsa';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { ServiceJwtConfig } from './auth-config.ts';
import { checkJwtHeader, invalidToken } from './own-tokens.ts';
import type { ServicePrincipal } from './principal.ts';
import { permissionsForScopes } from './scopes.ts';

/** Verifies a client-credentials JWT from the OAuth2 server and returns the service it names. */
export type ServiceJwtVerifier = (token: string, header: Record<string, unknown>, onBehalfOf: string | null) => Promise<ServicePrincipal>;

const CLOCK_TOLERANCE_SECONDS = 30;

/**
 * Service tokens (the MCP server's) are checked against the OAuth2 server's JWKS. jwks-rsa caches
 * keys and, with `rateLimit`, fetches at most `jwksRequestsPerMinute` times a minute whatever `kid`
 * an attacker invents; an unreachable JWKS endpoint makes the token invalid (401), never a 500.
 */
export function createServiceJwtVerifier(config: ServiceJwtConfig, audience: string, clock: Clock, logger: Logger): ServiceJwtVerifier {
  const client = jwksRsa({
    jwksUri: config.jwksUrl,
    cache: true,
    cacheMaxEntries: 10,
    cacheMaxAge: 10 * 60_000,
    rateLimit: true,
    jwksRequestsPerMinute: config.jwksRequestsPerMinute,
    timeout: config.jwksTimeoutMs,
  });

  return async (token, header, onBehalfOf) => {
    const { alg, kid } = checkJwtHeader(header, config.algorithms);
    let signingKey: jwksRsa.SigningKey;
    try {
      signingKey = await client.getSigningKey(kid);
    } catch (error) {
      // Unknown kid, JWKS endpoint down or slow, or the fetch rate limit reached: all mean
      // "cannot verify", which is the caller's 401, not our 500.
      logger.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'service token key lookup failed');
      throw invalidToken();
    }
    // A JWK that names its algorithm may only be used with that one (RS/ES/PS confusion).
    if (signingKey.alg && signingKey.alg !== alg) throw invalidToken();
    const publicKey = signingKey.getPublicKey();
    let payload: jwt.JwtPayload | string;
    try {
      payload = jwt.verify(token, publicKey, {
        algorithms: [alg as jwt.Algorithm],
        issuer: config.issuer,
        audience,
        clockTimestamp: Math.floor(clock.now().getTime() / 1000),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
    } catch {
      throw invalidToken();
    }
    if (typeof payload === 'string' || typeof payload.exp !== 'number') throw invalidToken();
    const serviceId = [payload.client_id, payload.azp, payload.sub].find(
      (value): value is string => typeof value === 'string' && value !== '',
    );
    if (!serviceId) throw invalidToken();
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
    return { kind: 'service', serviceId, scopes, permissions: permissionsForScopes(scopes), onBehalfOf };
  };
}
