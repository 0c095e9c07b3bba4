import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { AppError, notFound } from '../shared/errors.ts';
import { findCredentialsById } from '../users/user.queries.ts';
import type { AuthDeps } from './auth-deps.ts';
import type { Caller } from './caller.ts';
import { confirmPassword } from './confirm-password.ts';
import { releaseAttempt, reserveAttempt, SECOND_FACTOR_THROTTLE } from './login-throttle.ts';
import { checkSecondFactor } from './second-factor.ts';

/** Turns two-factor authentication off; needs the password and a current code (or a backup code). */
export async function disableTwoFactor(
  db: Kysely<DB>,
  userId: string,
  input: { password: string; code?: string | undefined; backupCode?: string | undefined },
  caller: Caller,
  deps: AuthDeps,
): Promise<void> {
  const user = await findCredentialsById(db, userId);
  if (!user) throw notFound('The account');
  if (!user.totpEnabledAt) throw new AppError('conflict', 'Two-factor authentication is not on.');
  await confirmPassword(db, user, input.password, caller, deps);

  const subject = { scope: '2fa' as const, account: userId, ipHash: caller.ipHash };
  await reserveAttempt(db, subject, SECOND_FACTOR_THROTTLE, deps.clock.now());
  const method = await checkSecondFactor(db, user, input, deps);
  if (!method) {
    throw new AppError(
      'validation_error',
      'That code is not valid (or was already used).',
      input.code !== undefined ? 'code' : 'backupCode',
    );
  }
  await releaseAttempt(db, subject);

  const now = deps.clock.now();
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('users')
      .set({ totpSecret: null, totpEnabledAt: null, totpLastUsedStep: null, updatedAt: now })
      .where('id', '=', userId)
      .execute();
    await trx.deleteFrom('twoFactorBackupCodes').where('userId', '=', userId).execute();
    if (method === 'backup_code') {
      await recordAudit(trx, caller.audit, { action: 'auth.2fa.backup_code_used', resourceType: 'user', resourceId: userId });
    }
    await recordAudit(trx, caller.audit, {
      action: 'auth.2fa.disable',
      resourceType: 'user',
      resourceId: userId,
      before: { twoFactorEnabled: true },
      after: { twoFactorEnabled: false },
      metadata: { secondFactor: method },
    });
  });
}
