import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { AppError } from '../shared/errors.ts';
import type { AuthDeps } from './auth-deps.ts';
import type { Caller } from './caller.ts';
import { sha256Hex } from './crypto.ts';
import { hashPassword } from './passwords.ts';
import { userActor } from './principal.ts';
import { revokeSessions } from './session.queries.ts';

const INVALID_LINK = 'This reset link is invalid, already used or expired. Ask for a new one.';

/**
 * Sets a new password with a reset token: single use, within the hour. Every session of the
 * account is signed out, since whoever knew the old password may hold one.
 */
export async function confirmPasswordReset(
  db: Kysely<DB>,
  input: { token: string; newPassword: string },
  caller: Caller,
  deps: AuthDeps,
): Promise<void> {
  const now = deps.clock.now();
  const tokenHash = sha256Hex(input.token);
  const pending = await db
    .selectFrom('passwordResetTokens')
    .where('tokenHash', '=', tokenHash)
    .where('usedAt', 'is', null)
    .where('expiresAt', '>', now)
    .select('id')
    .executeTakeFirst();
  if (!pending) throw new AppError('validation_error', INVALID_LINK, 'token');

  // Hash outside the transaction: it takes tens of milliseconds and holds no lock.
  const passwordHash = await hashPassword(input.newPassword);
  await db.transaction().execute(async (trx) => {
    const consumed = await trx
      .updateTable('passwordResetTokens')
      .set({ usedAt: now })
      .where('id', '=', pending.id)
      .where('usedAt', 'is', null)
      .returning('userId')
      .executeTakeFirst();
    if (!consumed) throw new AppError('validation_error', INVALID_LINK, 'token');
    const { userId } = consumed;
    await trx.updateTable('users').set({ passwordHash, updatedAt: now }).where('id', '=', userId).execute();
    await trx.updateTable('passwordResetTokens').set({ usedAt: now }).where('userId', '=', userId).where('usedAt', 'is', null).execute();
    const revoked = await revokeSessions(trx, { userId }, 'password_reset', now);
    await recordAudit(
      trx,
      { ...caller.audit, principal: userActor(userId) },
      { action: 'auth.password_reset.complete', resourceType: 'user', resourceId: userId, after: { sessionsRevoked: revoked.length } },
    );
  });
}
