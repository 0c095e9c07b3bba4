import { type DB, newId } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import { randomInt } from 'node:crypto';
import { sha256Hex } from './crypto.ts';

export const BACKUP_CODE_COUNT = 8;
export const BACKUP_CODE_LENGTH = 10;
// Crockford's base32: no I, L, O or U to misread when typing a code from paper.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Eight fresh single-use codes (50 bits each), shown to the user once. */
export function generateBackupCodes(): string[] {
  return Array.from({ length: BACKUP_CODE_COUNT }, () =>
    Array.from({ length: BACKUP_CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''),
  );
}

/** People type codes with spaces, dashes and lower case. */
export function normalizeBackupCode(input: string): string {
  return input.replace(/[\s-]/g, '').toUpperCase();
}

// 50 random bits per code: a fast one-way hash is enough (no dictionary to attack).
function hashBackupCode(code: string): string {
  return sha256Hex(normalizeBackupCode(code));
}

/** Replaces the user's backup codes with new ones (hashes only). */
export async function replaceBackupCodes(trx: Transaction<DB>, userId: string, codes: readonly string[], now: Date): Promise<void> {
  await trx.deleteFrom('twoFactorBackupCodes').where('userId', '=', userId).execute();
  await trx
    .insertInto('twoFactorBackupCodes')
    .values(codes.map((code) => ({ id: newId(now.getTime()), userId, codeHash: hashBackupCode(code), createdAt: now })))
    .execute();
}

/**
 * Uses up a backup code. One conditional UPDATE decides: of any number of concurrent uses of the
 * same code, exactly one finds `used_at is null` and succeeds (R16).
 */
export async function consumeBackupCode(db: Kysely<DB> | Transaction<DB>, userId: string, code: string, now: Date): Promise<boolean> {
  const used = await db
    .updateTable('twoFactorBackupCodes')
    .set({ usedAt: now })
    .where('userId', '=', userId)
    .where('codeHash', '=', hashBackupCode(code))
    .where('usedAt', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return used !== undefined;
}

export async function countUnusedBackupCodes(db: Kysely<DB> | Transaction<DB>, userId: string): Promise<number> {
  const row = await db
    .selectFrom('twoFactorBackupCodes')
    .where('userId', '=', userId)
    .where('usedAt', 'is', null)
    .select(({ fn }) => fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
