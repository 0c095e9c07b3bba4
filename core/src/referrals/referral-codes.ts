import type { DB } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import { randomInt } from 'node:crypto';

type Executor = Kysely<DB> | Transaction<DB>;

/** No 0/O or 1/I: codes are read aloud and typed from screenshots. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 8;

function randomCode(): string {
  let code = '';
  for (let index = 0; index < CODE_LENGTH; index += 1) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

/** How people type codes: case and surrounding spaces and dashes do not matter. */
export function normalizeReferralCode(input: string): string {
  return input
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '');
}

/** The user's referral code, made on first use (one per user, stable afterwards). */
export async function getOrCreateReferralCode(db: Executor, userId: string, now: Date): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const existing = await db.selectFrom('referralCodes').select('code').where('userId', '=', userId).executeTakeFirst();
    if (existing) return existing.code;
    // A clash with another user's code (1 in 10^12) or a concurrent first call both end here: read again.
    await db
      .insertInto('referralCodes')
      .values({ code: randomCode(), userId, createdAt: now })
      .onConflict((conflict) => conflict.doNothing())
      .execute();
  }
  throw new Error('Could not allocate a referral code');
}
