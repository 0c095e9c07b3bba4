import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import type { Caller } from '../auth/caller.ts';
import { notFound } from '../shared/errors.ts';
import { findRoles } from './user.queries.ts';

export const ROLES = ['admin', 'instructor', 'student', 'guest'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Gives a user a role (idempotent) and audits the change. It applies to the user's next sign-in
 * or token refresh.
 */
export async function grantRole(db: Kysely<DB>, userId: string, role: Role, caller: Caller, now: Date): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const user = await trx.selectFrom('users').where('id', '=', userId).select('id').forUpdate().executeTakeFirst();
    if (!user) throw notFound('The user', 'id');
    const before = await findRoles(trx, userId);
    if (before.includes(role)) return before;
    const grantedBy = caller.audit.principal.kind === 'user' ? caller.audit.principal.userId : null;
    await trx.insertInto('userRoles').values({ userId, role, grantedAt: now, grantedBy }).execute();
    const after = await findRoles(trx, userId);
    await recordAudit(trx, caller.audit, {
      action: 'users.role.grant',
      resourceType: 'user',
      resourceId: userId,
      before: { roles: before },
      after: { roles: after },
    });
    return after;
  });
}
