import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { AppError, notFound } from '../shared/errors.ts';
import { findCredentialsById } from '../users/user.queries.ts';
import type { AuthDeps } from './auth-deps.ts';
import { generateBackupCodes, replaceBackupCodes } from './backup-codes.ts';
import type { Caller } from './caller.ts';
import { releaseAttempt, reserveAttempt, SECOND_FACTOR_THROTTLE } from './login-throttle.ts';
import { checkTotpCode } from './second-factor.ts';

/**
 * Turns two-factor authentication on once the user proves their app shows the right code.
 * Answers the eight backup codes: the only time they are ever shown.
 */
export async function enableTwoFactor(
  db: Kysely<DB>,
  userId: string,
  code: string,
  caller: Caller,
  deps: AuthDeps,
): Promise<{ backupCodes: string[] }> {
  const user = await findCredentialsById(db, userId);
  if (!user) throw notFound('The account');
  if (user.totpEnabledAt) throw new AppError('conflict', 'Two-factor authentication is already on.');
  if (!user.totpSecret) throw new AppError('conflict', 'Start with POST /api/v1/auth/2fa/setup to get a secret for your app.');

  const subject = { scope: '2fa' as const, account: userId, ipHash: caller.ipHash };
  await reserveAttempt(db, subject, SECOND_FACTOR_THROTTLE, deps.clock.now());
  if (!(await checkTotpCode(db, user, code, deps))) {
    throw new AppError('validation_error', 'That code is not valid. Check the time on your phone and enter the current code.', 'code');
  }
  await releaseAttempt(db, subject);

  const backupCodes = generateBackupCodes();
  const now = deps.clock.now();
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ totpEnabledAt: now, updatedAt: now }).where('id', '=', userId).execute();
    await replaceBackupCodes(trx, userId, backupCodes, now);
    await recordAudit(trx, caller.audit, {
      action: 'auth.2fa.enable',
      resourceType: 'user',
      resourceId: userId,
      before: { twoFactorEnabled: false },
      after: { twoFactorEnabled: true, backupCodesIssued: backupCodes.length },
    });
  });
  return { backupCodes };
}
