import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { CredentialRow } from '../users/user.queries.ts';
import type { AuthDeps } from './auth-deps.ts';
import { BACKUP_CODE_LENGTH, consumeBackupCode, normalizeBackupCode } from './backup-codes.ts';
import { openSecret } from './secret-box.ts';
import { matchTotpStep } from './totp.ts';

export const TotpCode = z.string().regex(/^\d{6}$/, 'Enter the 6-digit code from your authenticator app.');
export const BackupCode = z
  .string()
  .max(24)
  .refine((value) => normalizeBackupCode(value).length === BACKUP_CODE_LENGTH, 'Backup codes are 10 characters.');

/** Where the TOTP secret is sealed: bound to the user so it cannot be moved to another row. */
export function totpSecretContext(userId: string): string {
  return `totp:${userId}`;
}

/**
 * Checks a TOTP code and records its step, refusing a step at or before the last one used:
 * a code (or an older one) cannot be replayed, and the conditional UPDATE makes two concurrent
 * uses of one code pass at most once.
 */
export async function checkTotpCode(
  db: Kysely<DB>,
  user: Pick<CredentialRow, 'id' | 'totpSecret'>,
  code: string,
  deps: AuthDeps,
): Promise<boolean> {
  if (!user.totpSecret) return false;
  const secret = openSecret(deps.keys.dataKey, user.totpSecret, totpSecretContext(user.id));
  const step = matchTotpStep(secret, code, deps.clock.now());
  if (step === null) return false;
  const updated = await db
    .updateTable('users')
    .set({ totpLastUsedStep: step })
    .where('id', '=', user.id)
    .where((eb) => eb.or([eb('totpLastUsedStep', 'is', null), eb('totpLastUsedStep', '<', step)]))
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** A TOTP code or a backup code, whichever was given; which one worked, or null. */
export async function checkSecondFactor(
  db: Kysely<DB>,
  user: Pick<CredentialRow, 'id' | 'totpSecret'>,
  proof: { code?: string | undefined; backupCode?: string | undefined },
  deps: AuthDeps,
): Promise<'totp' | 'backup_code' | null> {
  if (proof.code !== undefined) return (await checkTotpCode(db, user, proof.code, deps)) ? 'totp' : null;
  if (proof.backupCode !== undefined) {
    return (await consumeBackupCode(db, user.id, proof.backupCode, deps.clock.now())) ? 'backup_code' : null;
  }
  return null;
}
