import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { AuthConfig } from './auth-config.ts';
import { type AuthKeys, loadAuthKeys } from './keys.ts';
import { makeDummyPasswordHash } from './passwords.ts';
import { createRolePermissions, type RolePermissions } from './role-permissions.ts';
import { createServiceJwtVerifier, type ServiceJwtVerifier } from './service-tokens.ts';

/** What the identity use cases need besides the database, built once per process. */
export interface AuthDeps {
  readonly config: AuthConfig;
  readonly keys: AuthKeys;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly rolePermissions: RolePermissions;
  /** Undefined when no OAuth2 server is configured (SERVICE_JWKS_URL). */
  readonly verifyServiceJwt: ServiceJwtVerifier | undefined;
  /** Verified against for unknown e-mails so they cost as much time as wrong passwords. */
  readonly dummyPasswordHash: string;
}

/** Loads (or, outside PROD, creates) the keys and says which service credentials are accepted. */
export function createAuthDeps(options: { config: AuthConfig; clock: Clock; logger: Logger }): AuthDeps {
  const { config, clock, logger } = options;
  const serviceJwt = config.serviceJwt;
  if (serviceJwt) {
    logger.info(
      { jwksUrl: serviceJwt.jwksUrl, issuer: serviceJwt.issuer },
      'service principals: client-credentials JWTs checked against the JWKS',
    );
  }
  if (config.serviceKeys.length > 0) {
    logger.warn(
      { services: config.serviceKeys.map((key) => key.name) },
      'service principals: development service keys accepted (refused on PROD)',
    );
  }
  return {
    config,
    keys: loadAuthKeys(config, logger),
    clock,
    logger,
    rolePermissions: createRolePermissions(),
    verifyServiceJwt: serviceJwt ? createServiceJwtVerifier(serviceJwt, config.audience, clock, logger) : undefined,
    dummyPasswordHash: makeDummyPasswordHash(),
  };
}
