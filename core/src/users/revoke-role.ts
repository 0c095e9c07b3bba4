import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import type { Caller } from '../auth/caller.ts';
import { revokeSessions } from '../auth/session.queries.ts';
import { AppError, notFound } from '../shared/errors.ts';
import type { Role } from './grant-role.ts';
import { findRoles } from './user.queries.ts';

/**
 * Takes a role away (idempotent) and signs the user out everywhere, so the lost permissions end
 * when their current access token expires instead of at their next refresh.
 */
export async function revokeRole(db: Kysely<DB>, userId: string, role: Role, caller: Caller, now: Date): Promise<string[]> {
  const actor = caller.audit.principal;
  if (role === 'admin' && actor.kind === 'user' && actor.userId === userId) {
    throw new AppError('conflict', 'You cannot remove your own admin role; ask another admin.', 'role');
  }
  return db.transaction().execute(async (trx) => {
    const user = await trx.selectFrom('users').where('id', '=', userId).select('id').forUpdate().executeTakeFirst();
    if (!user) throw notFound('The user', 'id');
    const before = await findRoles(trx, userId);
    if (!before.includes(role)) return before;
    await trx.deleteFrom('userRoles').where('userId', '=', userId).where('role', '=', role).execute();
    const revoked = await revokeSessions(trx, { userId }, 'role_revoked', now);
    const after = await findRoles(trx, userId);
    await recordAudit(trx, caller.audit, {
      action: 'users.role.revoke',
      resourceType: 'user',
      resourceId: userId,
      before: { roles: before },
      after: { roles: after },
      metadata: { sessionsRevoked: revoked.length },
    });
    return after;
  });
}
