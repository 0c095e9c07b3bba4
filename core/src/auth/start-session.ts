import { type DB, newId } from '@instainstru/db';
import type { Transaction } from 'kysely';
import type { AuthDeps } from './auth-deps.ts';
import type { Caller } from './caller.ts';
import { issueAccessToken } from './own-tokens.ts';
import { insertRefreshToken } from './session.queries.ts';

/** What a successful sign-in, registration or refresh answers. */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'bearer';
  /** Seconds until the access token expires. */
  expiresIn: number;
}

export function tokenPair(
  deps: AuthDeps,
  claims: { userId: string; sessionId: string; roles: string[] },
  refreshToken: string,
  now: Date,
): TokenPair {
  return {
    accessToken: issueAccessToken(deps.keys, deps.config, claims, now),
    refreshToken,
    tokenType: 'bearer',
    expiresIn: deps.config.accessTokenTtlSeconds,
  };
}

/** Opens a sign-in session (a refresh-token family) for a user whose credentials were checked. */
export async function startSession(
  trx: Transaction<DB>,
  user: { id: string; roles: string[] },
  caller: Caller,
  deps: AuthDeps,
): Promise<TokenPair & { sessionId: string }> {
  const now = deps.clock.now();
  const sessionId = newId(now.getTime());
  await trx
    .insertInto('authSessions')
    .values({
      id: sessionId,
      userId: user.id,
      createdAt: now,
      lastUsedAt: now,
      userAgent: caller.userAgent?.slice(0, 256) ?? null,
      ipHash: caller.ipHash,
    })
    .execute();
  const refreshToken = await insertRefreshToken(trx, sessionId, now, deps.config.refreshTokenTtlDays);
  await trx.updateTable('users').set({ lastLoginAt: now }).where('id', '=', user.id).execute();
  return { ...tokenPair(deps, { userId: user.id, sessionId, roles: user.roles }, refreshToken, now), sessionId };
}
