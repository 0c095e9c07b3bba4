import type { DB } from '@instainstru/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import { addDays } from '../credits/credit-config.ts';
import { REFERRAL_CONFIG } from './referral-config.ts';

type Executor = Kysely<DB> | Transaction<DB>;

export type SelfReferralReason = 'self_referral_device' | 'self_referral_ip' | 'self_referral_card';
export type VelocityFlag = 'velocity_day' | 'velocity_week';

/** Remembers the device and IP hashes a user was seen with in the referral flow. */
export async function recordFingerprints(
  db: Executor,
  userId: string,
  seen: { deviceHash?: string | null | undefined; ipHash?: string | null | undefined },
  now: Date,
): Promise<void> {
  const rows = [
    ...(seen.deviceHash ? [{ kind: 'device', hash: seen.deviceHash }] : []),
    ...(seen.ipHash ? [{ kind: 'ip', hash: seen.ipHash }] : []),
  ];
  for (const row of rows) {
    await db
      .insertInto('referralFingerprints')
      .values({ userId, kind: row.kind, hash: row.hash, firstSeenAt: now, lastSeenAt: now })
      .onConflict((conflict) => conflict.columns(['userId', 'kind', 'hash']).doUpdateSet({ lastSeenAt: now }))
      .execute();
  }
}

/** Every card fingerprint a user has saved (removed cards too: the same card is the same person). */
export async function cardFingerprintsOf(db: Executor, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('paymentMethods')
    .select('cardFingerprint')
    .distinct()
    .where('userId', '=', userId)
    .where('cardFingerprint', 'is not', null)
    .execute();
  return rows.map((row) => row.cardFingerprint).filter((value): value is string => value !== null);
}

/**
 * The self-referral rule (payments.md §Referrals): the referred person is the referrer when they
 * share a device fingerprint hash, an IP hash (the referrer's sign-ins and referral visits), or a
 * card fingerprint. Returns the first rule that matches, or null.
 */
export async function findSelfReferral(
  db: Executor,
  input: { referrerId: string; referredId: string; deviceHash: string | null; ipHash: string | null },
): Promise<{ reason: SelfReferralReason; cardFingerprint: string | null } | null> {
  if (input.deviceHash) {
    const device = await db
      .selectFrom('referralFingerprints')
      .select('hash')
      .where('userId', '=', input.referrerId)
      .where('kind', '=', 'device')
      .where('hash', '=', input.deviceHash)
      .executeTakeFirst();
    if (device) return { reason: 'self_referral_device', cardFingerprint: null };
  }
  if (input.ipHash) {
    const ip = await sql<{ one: number }>`
      select 1 as one from referral_fingerprints where user_id = ${input.referrerId} and kind = 'ip' and hash = ${input.ipHash}
      union all
      select 1 from auth_sessions where user_id = ${input.referrerId} and ip_hash = ${input.ipHash}
      limit 1`.execute(db);
    if (ip.rows.length > 0) return { reason: 'self_referral_ip', cardFingerprint: null };
  }
  const sharedCard = await findSharedCard(db, input.referrerId, input.referredId);
  if (sharedCard) return { reason: 'self_referral_card', cardFingerprint: sharedCard };
  return null;
}

/** A card fingerprint both users have saved, if any. */
export async function findSharedCard(db: Executor, referrerId: string, referredId: string): Promise<string | null> {
  const row = await db
    .selectFrom('paymentMethods as mine')
    .innerJoin('paymentMethods as theirs', 'theirs.cardFingerprint', 'mine.cardFingerprint')
    .select('mine.cardFingerprint')
    .where('mine.userId', '=', referredId)
    .where('theirs.userId', '=', referrerId)
    .where('mine.cardFingerprint', 'is not', null)
    .executeTakeFirst();
  return row?.cardFingerprint ?? null;
}

/**
 * The velocity rule: more than 5 attributions to one referrer in a day, or 15 in a week (this
 * one included), is held for review. Rejected attempts do not count.
 */
export async function velocityFlag(db: Executor, referrerId: string, now: Date): Promise<VelocityFlag | null> {
  const row = await db
    .selectFrom('referralAttributions')
    .where('referrerId', '=', referrerId)
    .where('status', '<>', 'rejected')
    .where('attributedAt', '>', addDays(now, -7))
    .select([
      sql<number>`count(*) filter (where attributed_at > ${addDays(now, -1)})::int`.as('day'),
      sql<number>`count(*)::int`.as('week'),
    ])
    .executeTakeFirstOrThrow();
  if (row.day + 1 > REFERRAL_CONFIG.velocity.maxPerDay) return 'velocity_day';
  if (row.week + 1 > REFERRAL_CONFIG.velocity.maxPerWeek) return 'velocity_week';
  return null;
}
