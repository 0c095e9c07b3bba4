import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AppError } from '../shared/errors.ts';
import type { AuthConfig } from './auth-config.ts';
import { ACCESS_TOKEN_ALGORITHM, type AuthKeys } from './keys.ts';

/** Header types keep one kind of token from being accepted as another. */
const ACCESS_TYPE = 'at+jwt';
const CHALLENGE_TYPE = '2fa-challenge+jwt';
export const CHALLENGE_TTL_SECONDS = 300;

/** Headers that point the verifier at keys chosen by the token's author: never honoured. */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit'];
const KID = /^[A-Za-z0-9._-]{1,128}$/;
const CLOCK_TOLERANCE_SECONDS = 5;

export interface AccessClaims {
  userId: string;
  sessionId: string;
  roles: string[];
  tokenId: string;
}

export function invalidToken(detail = 'The access token is invalid or expired; sign in again.'): AppError {
  return new AppError('invalid_token', detail);
}

/** Header checks done before any signature work: the header decides nothing by itself. */
export function checkJwtHeader(header: Record<string, unknown>, allowedAlgorithms: readonly string[]): { alg: string; kid: string } {
  const { alg, kid } = header;
  if (typeof alg !== 'string' || !allowedAlgorithms.includes(alg)) throw invalidToken();
  if (typeof kid !== 'string' || !KID.test(kid)) throw invalidToken();
  if (FORBIDDEN_HEADERS.some((name) => name in header)) throw invalidToken();
  return { alg, kid };
}

function sign(keys: AuthKeys, type: string, payload: Record<string, unknown>): string {
  return jwt.sign(payload, keys.signing.privateKey, {
    algorithm: ACCESS_TOKEN_ALGORITHM,
    header: { alg: ACCESS_TOKEN_ALGORITHM, kid: keys.signing.keyId, typ: type },
  });
}

function verify(token: string, keys: AuthKeys, options: { type: string; issuer: string; audience: string; now: Date }): jwt.JwtPayload {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') throw invalidToken();
  const header = decoded.header as unknown as Record<string, unknown>;
  const { kid } = checkJwtHeader(header, [ACCESS_TOKEN_ALGORITHM]);
  if (kid !== keys.signing.keyId || header.typ !== options.type) throw invalidToken();
  let payload: jwt.JwtPayload | string;
  try {
    payload = jwt.verify(token, keys.signing.publicKey, {
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      issuer: options.issuer,
      audience: options.audience,
      clockTimestamp: Math.floor(options.now.getTime() / 1000),
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
  } catch (error) {
    throw invalidToken(
      (error as Error).name === 'TokenExpiredError' ? 'The access token has expired; refresh it or sign in again.' : undefined,
    );
  }
  // jsonwebtoken accepts a token without `exp` as valid forever.
  if (typeof payload === 'string' || typeof payload.exp !== 'number' || typeof payload.sub !== 'string') throw invalidToken();
  return payload;
}

/** A short-lived ES256 access token for a user's session. */
export function issueAccessToken(keys: AuthKeys, config: AuthConfig, claims: Omit<AccessClaims, 'tokenId'>, now: Date): string {
  const issuedAt = Math.floor(now.getTime() / 1000);
  return sign(keys, ACCESS_TYPE, {
    iss: config.issuer,
    aud: config.audience,
    sub: claims.userId,
    sid: claims.sessionId,
    roles: claims.roles,
    jti: randomUUID(),
    iat: issuedAt,
    exp: issuedAt + config.accessTokenTtlSeconds,
  });
}

/** Verifies one of our access tokens: algorithm, key id, issuer, audience and expiry all required. */
export function verifyAccessToken(token: string, keys: AuthKeys, config: AuthConfig, now: Date): AccessClaims {
  const payload = verify(token, keys, { type: ACCESS_TYPE, issuer: config.issuer, audience: config.audience, now });
  const roles = payload.roles;
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) throw invalidToken();
  if (typeof payload.sid !== 'string' || typeof payload.jti !== 'string') throw invalidToken();
  return { userId: payload.sub as string, sessionId: payload.sid, roles, tokenId: payload.jti };
}

/**
 * Proof that the password was right, traded for tokens at /auth/2fa/verify together with a code.
 * A different audience and header type make it useless as an access token.
 */
export function issueChallengeToken(keys: AuthKeys, config: AuthConfig, userId: string, now: Date): string {
  const issuedAt = Math.floor(now.getTime() / 1000);
  return sign(keys, CHALLENGE_TYPE, {
    iss: config.issuer,
    aud: `${config.audience}#2fa`,
    sub: userId,
    jti: randomUUID(),
    iat: issuedAt,
    exp: issuedAt + CHALLENGE_TTL_SECONDS,
  });
}

/** The user a challenge token was issued to. */
export function verifyChallengeToken(token: string, keys: AuthKeys, config: AuthConfig, now: Date): string {
  try {
    return verify(token, keys, { type: CHALLENGE_TYPE, issuer: config.issuer, audience: `${config.audience}#2fa`, now }).sub as string;
  } catch {
    throw new AppError('invalid_token', 'The sign-in challenge is invalid or has expired; sign in again.', 'challengeToken');
  }
}
