import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { AppError, notFound } from '../shared/errors.ts';
import { findCredentialsById } from '../users/user.queries.ts';
import type { AuthDeps } from './auth-deps.ts';
import type { Caller } from './caller.ts';
import { confirmPassword } from './confirm-password.ts';
import { totpSecretContext } from './second-factor.ts';
import { sealSecret } from './secret-box.ts';
import { generateTotpSecret, otpauthUri } from './totp.ts';

/**
 * First step of turning on two-factor authentication: a new secret for the authenticator app.
 * It is stored encrypted and stays inactive until /auth/2fa/enable proves the app has it.
 */
export async function setupTwoFactor(
  db: Kysely<DB>,
  userId: string,
  password: string,
  caller: Caller,
  deps: AuthDeps,
): Promise<{ secret: string; otpauthUri: string }> {
  const user = await findCredentialsById(db, userId);
  if (!user) throw notFound('The account');
  if (user.totpEnabledAt) throw new AppError('conflict', 'Two-factor authentication is already on. Turn it off first to start over.');
  await confirmPassword(db, user, password, caller, deps);

  const secret = generateTotpSecret();
  const now = deps.clock.now();
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('users')
      .set({ totpSecret: sealSecret(deps.keys.dataKey, secret, totpSecretContext(userId)), totpLastUsedStep: null, updatedAt: now })
      .where('id', '=', userId)
      .where('totpEnabledAt', 'is', null)
      .execute();
    await recordAudit(trx, caller.audit, { action: 'auth.2fa.setup', resourceType: 'user', resourceId: userId });
  });
  return { secret, otpauthUri: otpauthUri(secret, user.email) };
}
