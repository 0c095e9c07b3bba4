import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';

export interface SessionSummary {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  userAgent: string | null;
  /** The session the request's access token belongs to. */
  current: boolean;
}

/** The user's signed-in sessions that can still refresh, most recently used first (at most 100). */
export async function findSessions(db: Kysely<DB>, userId: string, currentSessionId: string | null, now: Date): Promise<SessionSummary[]> {
  const rows = await db
    .selectFrom('authSessions as s')
    .where('s.userId', '=', userId)
    .where('s.revokedAt', 'is', null)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('refreshTokens as t')
          .whereRef('t.sessionId', '=', 's.id')
          .where('t.usedAt', 'is', null)
          .where('t.expiresAt', '>', now)
          .select('t.id'),
      ),
    )
    .select(['s.id', 's.createdAt', 's.lastUsedAt', 's.userAgent'])
    .orderBy('s.lastUsedAt', 'desc')
    .orderBy('s.id', 'desc')
    .limit(100)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt.toISOString(),
    userAgent: row.userAgent,
    current: row.id === currentSessionId,
  }));
}
