import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { findRoles } from '../users/user.queries.ts';
import type { AuthDeps } from './auth-deps.ts';
import type { Caller } from './caller.ts';
import { sha256Hex } from './crypto.ts';
import { invalidToken } from './own-tokens.ts';
import { insertRefreshToken, revokeSessions } from './session.queries.ts';
import { type TokenPair, tokenPair } from './start-session.ts';

/**
 * Trades a refresh token for a new pair (rotation). Each refresh token works once: presenting
 * one that was already used means two parties hold it, so the whole session is revoked, the
 * event audited, and the caller answered 401 — the thief and the owner both have to sign in again.
 */
export async function refreshSession(db: Kysely<DB>, refreshToken: string, caller: Caller, deps: AuthDeps): Promise<TokenPair> {
  const now = deps.clock.now();
  const tokenHash = sha256Hex(refreshToken);

  const rotated = await db.transaction().execute(async (trx) => {
    // The conditional update is the lock: of two concurrent uses of one token, exactly one spends it.
    const spent = await trx
      .updateTable('refreshTokens')
      .set({ usedAt: now })
      .where('tokenHash', '=', tokenHash)
      .where('usedAt', 'is', null)
      .returning(['sessionId', 'expiresAt'])
      .executeTakeFirst();
    if (!spent) return undefined;
    const session = await trx
      .selectFrom('authSessions as s')
      .innerJoin('users as u', 'u.id', 's.userId')
      .where('s.id', '=', spent.sessionId)
      .select(['s.userId', 's.revokedAt', 'u.status'])
      .executeTakeFirstOrThrow();
    if (spent.expiresAt <= now || session.revokedAt !== null || session.status !== 'active') {
      return { refused: true as const };
    }
    const next = await insertRefreshToken(trx, spent.sessionId, now, deps.config.refreshTokenTtlDays);
    await trx.updateTable('authSessions').set({ lastUsedAt: now }).where('id', '=', spent.sessionId).execute();
    const roles = await findRoles(trx, session.userId);
    return { refused: false as const, pair: tokenPair(deps, { userId: session.userId, sessionId: spent.sessionId, roles }, next, now) };
  });

  if (rotated && !rotated.refused) return rotated.pair;
  if (!rotated) await handlePossibleReuse(db, tokenHash, caller, now);
  throw invalidToken('The refresh token is invalid or expired; sign in again.');
}

async function handlePossibleReuse(db: Kysely<DB>, tokenHash: string, caller: Caller, now: Date): Promise<void> {
  const known = await db
    .selectFrom('refreshTokens as t')
    .innerJoin('authSessions as s', 's.id', 't.sessionId')
    .where('t.tokenHash', '=', tokenHash)
    .select(['s.id as sessionId', 's.userId'])
    .executeTakeFirst();
  if (!known) return;
  const revoked = await db.transaction().execute(async (trx) => {
    const ids = await revokeSessions(trx, { sessionId: known.sessionId }, 'refresh_token_reuse', now);
    if (ids.length > 0) {
      await recordAudit(trx, caller.audit, {
        action: 'auth.refresh_token_reuse',
        resourceType: 'user',
        resourceId: known.userId,
        outcome: 'denied',
        after: { sessionRevoked: true },
        metadata: { sessionId: known.sessionId },
      });
    }
    return ids.length > 0;
  });
  if (revoked) {
    throw invalidToken('This refresh token was already used, so the session has been signed out for safety. Sign in again.');
  }
}
