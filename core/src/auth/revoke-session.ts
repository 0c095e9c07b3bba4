import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { notFound } from '../shared/errors.ts';
import type { Caller } from './caller.ts';
import { revokeSessions } from './session.queries.ts';

/**
 * Signs out one of your own sessions ("sign out that laptop"). Someone else's session id
 * answers 404, exactly like an id that does not exist.
 */
export async function revokeSession(db: Kysely<DB>, userId: string, sessionId: string, caller: Caller, now: Date): Promise<void> {
  const owned = await db
    .selectFrom('authSessions')
    .where('id', '=', sessionId)
    .where('userId', '=', userId)
    .select('id')
    .executeTakeFirst();
  if (!owned) throw notFound('The session', 'id');
  await db.transaction().execute(async (trx) => {
    const revoked = await revokeSessions(trx, { sessionId }, 'revoked_by_user', now);
    if (revoked.length > 0) {
      await recordAudit(trx, caller.audit, {
        action: 'auth.session.revoke',
        resourceType: 'user',
        resourceId: userId,
        metadata: { sessionId },
      });
    }
  });
}
