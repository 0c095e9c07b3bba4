import type { DB } from '@instainstru/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import { TIER_WINDOW_MS } from './tiers.ts';

/** Every SQL statement about tiers and founding status: rows in, rows out. */

type Executor = Kysely<DB> | Transaction<DB>;

export interface TierStateRow {
  instructorId: string;
  tierFeeBps: number;
  /** When the tier was set (the column's name predates the rules: see tiers.ts). */
  tierEvaluatedAt: Date | null;
  lastLessonAt: Date | null;
  isFounding: boolean;
  foundingNumber: number | null;
  createdAt: Date;
  /** Completed lessons with now − 30 days < ends_at ≤ now. */
  lessonsInWindow: number;
  /** End of the latest completed lesson at or before now. */
  lastCompletedAt: Date | null;
}

function tierStateQuery(db: Executor, now: Date) {
  const windowStart = new Date(now.getTime() - TIER_WINDOW_MS);
  return db
    .selectFrom('instructorProfiles as p')
    .select([
      'p.userId as instructorId',
      'p.tierFeeBps',
      'p.tierEvaluatedAt',
      'p.lastLessonAt',
      'p.isFounding',
      'p.foundingNumber',
      'p.createdAt',
    ])
    .select((eb) => [
      eb
        .selectFrom('bookings as b')
        .whereRef('b.instructorId', '=', 'p.userId')
        .where('b.status', '=', 'completed')
        .where('b.endsAt', '>', windowStart)
        .where('b.endsAt', '<=', now)
        .select(sql<number>`count(*)::int`.as('n'))
        .as('lessonsInWindow'),
      eb
        .selectFrom('bookings as b')
        .whereRef('b.instructorId', '=', 'p.userId')
        .where('b.status', '=', 'completed')
        .where('b.endsAt', '<=', now)
        .select((inner) => inner.fn.max('b.endsAt').as('m'))
        .as('lastCompletedAt'),
    ]);
}

function toTierState(row: {
  instructorId: string;
  tierFeeBps: number;
  tierEvaluatedAt: Date | null;
  lastLessonAt: Date | null;
  isFounding: boolean;
  foundingNumber: number | null;
  createdAt: Date;
  lessonsInWindow: number | null;
  lastCompletedAt: Date | null;
}): TierStateRow {
  return { ...row, lessonsInWindow: Number(row.lessonsInWindow ?? 0), lastCompletedAt: row.lastCompletedAt ?? null };
}

/**
 * One instructor's tier facts at `now`. With `lock`, the profile row is locked (FOR NO KEY
 * UPDATE: it serializes tier writers without blocking bookings that reference the profile).
 */
export async function findTierState(db: Executor, instructorId: string, now: Date, options: { lock?: boolean } = {}) {
  let query = tierStateQuery(db, now).where('p.userId', '=', instructorId);
  if (options.lock) query = query.forNoKeyUpdate();
  const row = await query.executeTakeFirst();
  return row ? toTierState(row) : undefined;
}

/** Every non-founding instructor's tier facts at `now` (the daily evaluation reads these unlocked). */
export async function findAllTierStates(db: Executor, now: Date): Promise<TierStateRow[]> {
  const rows = await tierStateQuery(db, now).where('p.isFounding', '=', false).orderBy('p.userId').execute();
  return rows.map(toTierState);
}

export async function updateTierState(
  trx: Transaction<DB>,
  instructorId: string,
  values: { tierFeeBps?: number; tierEvaluatedAt?: Date | null; lastLessonAt?: Date | null },
): Promise<void> {
  await trx.updateTable('instructorProfiles').set(values).where('userId', '=', instructorId).execute();
}

/** Serializes every founding grant in the database: the cap check and the insert become one step. */
export async function lockFoundingCap(trx: Transaction<DB>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended('pricing:founding-cap', 0))`.execute(trx);
}

export async function findFoundingProfile(db: Executor, instructorId: string, options: { lock?: boolean } = {}) {
  let query = db
    .selectFrom('instructorProfiles')
    .select(['userId', 'isFounding', 'foundingNumber', 'foundingGrantedAt', 'tierFeeBps'])
    .where('userId', '=', instructorId);
  if (options.lock) query = query.forNoKeyUpdate();
  return query.executeTakeFirst();
}

/** The lowest founding number not taken, or undefined when all `cap` are. */
export async function findFreeFoundingNumber(db: Executor, cap: number): Promise<number | undefined> {
  const { rows } = await sql<{ n: number }>`
    select n from generate_series(1, ${cap}::int) as n
    where not exists (select 1 from instructor_profiles p where p.founding_number = n)
    order by n limit 1
  `.execute(db);
  return rows[0]?.n;
}

export async function markFounding(
  trx: Transaction<DB>,
  instructorId: string,
  foundingNumber: number,
  feeBps: number,
  now: Date,
): Promise<void> {
  await trx
    .updateTable('instructorProfiles')
    .set({ isFounding: true, foundingNumber, foundingGrantedAt: now, tierFeeBps: feeBps, tierEvaluatedAt: now, updatedAt: now })
    .where('userId', '=', instructorId)
    .execute();
}

export async function countFounding(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('instructorProfiles')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('isFounding', '=', true)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Founding instructors in founding-number order. */
export async function findFoundingInstructors(db: Executor) {
  return db
    .selectFrom('instructorProfiles as p')
    .innerJoin('users as u', 'u.id', 'p.userId')
    .select([
      'p.userId as instructorId',
      'p.foundingNumber',
      'p.foundingGrantedAt',
      'p.isLive',
      'p.verificationStatus',
      'u.firstName',
      'u.lastName',
    ])
    .where('p.isFounding', '=', true)
    .orderBy('p.foundingNumber')
    .execute();
}
