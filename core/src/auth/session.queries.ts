import { type DB, newId } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import { randomToken, sha256Hex } from './crypto.ts';

type Db = Kysely<DB> | Transaction<DB>;

export const REFRESH_TOKEN_PREFIX = 'ii_rt_';

/** Stores a new refresh token (its hash only) in a session and returns the raw token, once. */
export async function insertRefreshToken(db: Db, sessionId: string, now: Date, ttlDays: number): Promise<string> {
  const token = randomToken(REFRESH_TOKEN_PREFIX);
  await db
    .insertInto('refreshTokens')
    .values({
      id: newId(now.getTime()),
      sessionId,
      tokenHash: sha256Hex(token),
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttlDays * 86_400_000),
    })
    .execute();
  return token;
}

export type RevocationReason = 'logout' | 'refresh_token_reuse' | 'password_reset' | 'revoked_by_user' | 'role_revoked';

/** Revokes one session, or every session of a user; returns the ids that were still active. */
export async function revokeSessions(
  db: Db,
  which: { sessionId: string } | { userId: string },
  reason: RevocationReason,
  now: Date,
): Promise<string[]> {
  let query = db.updateTable('authSessions').set({ revokedAt: now, revokedReason: reason }).where('revokedAt', 'is', null);
  query = 'sessionId' in which ? query.where('id', '=', which.sessionId) : query.where('userId', '=', which.userId);
  const rows = await query.returning('id').execute();
  return rows.map((row) => row.id);
}
