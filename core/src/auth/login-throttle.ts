import type { DB } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import { AppError } from '../shared/errors.ts';

/**
 * Sign-in throttling that an attacker cannot turn against the victim (R15).
 *
 * - Per (account, IP) pair: a few free failures, then a delay that doubles with each failure.
 *   This is the main brake on guessing, and it only slows the IP that guesses.
 * - Per IP: a cap on failures across all accounts, against one IP spraying many accounts.
 * - Per account (any IP): above a soft cap, pairs lose their free failures; an IP that has not
 *   failed on the account still gets its attempt, so the owner can sign in from their own
 *   network while someone else hammers the account. Two-factor codes also have a hard cap,
 *   because a 6-digit code is guessable where a password is not.
 *
 * Counters live in PostgreSQL so every API process agrees. An attempt is counted *before* the
 * password is checked (the row update is atomic, so 100 concurrent attempts cannot all pass as
 * "first") and released when it succeeds.
 */
export interface ThrottlePolicy {
  /** Failures an (account, IP) pair may make before the delay starts. */
  readonly freeFailures: number;
  /** The delay doubles from 1 s with each further failure, up to this. */
  readonly maxDelaySeconds: number;
  /** Window of the per-IP and per-account counts. */
  readonly windowSeconds: number;
  readonly ipCap: number;
  readonly accountSoftCap: number;
  readonly accountHardCap: number | null;
}

export const SIGN_IN_THROTTLE: ThrottlePolicy = Object.freeze({
  freeFailures: 3,
  maxDelaySeconds: 900,
  windowSeconds: 900,
  ipCap: 30,
  accountSoftCap: 20,
  accountHardCap: null,
});

export const SECOND_FACTOR_THROTTLE: ThrottlePolicy = Object.freeze({
  freeFailures: 3,
  maxDelaySeconds: 900,
  windowSeconds: 900,
  ipCap: 30,
  accountSoftCap: 5,
  accountHardCap: 10,
});

export interface ThrottleSubject {
  readonly scope: 'login' | '2fa';
  /** A keyed hash of the e-mail (sign-in) or the user id (two-factor). */
  readonly account: string;
  readonly ipHash: string;
}

/** A pair that has not failed for a day starts again from zero. */
const PAIR_MEMORY_SECONDS = 86_400;
const NO_CAP = 2_147_483_647;

function keysOf(subject: ThrottleSubject) {
  return {
    ip: `${subject.scope}:ip:${subject.ipHash}`,
    account: `${subject.scope}:acct:${subject.account}`,
    pair: `${subject.scope}:pair:${subject.account}:${subject.ipHash}`,
  };
}

function secondsBefore(now: Date, seconds: number): string {
  return new Date(now.getTime() - seconds * 1000).toISOString();
}

function throttled(retryAfterSeconds: number): AppError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new AppError('rate_limited', `Too many attempts. Wait ${seconds} seconds and try again.`, null, seconds);
}

/** Counts one attempt in a fixed window unless the window is full; the new count, or undefined. */
async function countInWindow(db: Kysely<DB>, key: string, cap: number, policy: ThrottlePolicy, now: Date): Promise<number | undefined> {
  const at = now.toISOString();
  const expired = secondsBefore(now, policy.windowSeconds);
  const { rows } = await sql<{ failures: number }>`
    insert into login_throttle as t (key, failures, window_started_at, last_failure_at)
    values (${key}, 1, ${at}::timestamptz, ${at}::timestamptz)
    on conflict (key) do update set
      failures = case when t.window_started_at <= ${expired}::timestamptz then 1 else t.failures + 1 end,
      window_started_at = case when t.window_started_at <= ${expired}::timestamptz then ${at}::timestamptz else t.window_started_at end,
      last_failure_at = ${at}::timestamptz
    where t.window_started_at <= ${expired}::timestamptz or t.failures < ${cap}::int
    returning failures
  `.execute(db);
  return rows[0]?.failures;
}

async function windowRetryAfter(db: Kysely<DB>, key: string, policy: ThrottlePolicy, now: Date): Promise<number> {
  const row = await db.selectFrom('loginThrottle').where('key', '=', key).select('windowStartedAt').executeTakeFirst();
  return row ? (row.windowStartedAt.getTime() + policy.windowSeconds * 1000 - now.getTime()) / 1000 : 1;
}

function pairDelaySeconds(failures: number, free: number, policy: ThrottlePolicy): number {
  return failures < free ? 0 : Math.min(2 ** (failures - free), policy.maxDelaySeconds);
}

/** Counts one attempt for the pair if its delay has passed; false when it must wait. */
async function reservePair(db: Kysely<DB>, key: string, free: number, policy: ThrottlePolicy, now: Date): Promise<boolean> {
  const at = now.toISOString();
  const stale = secondsBefore(now, PAIR_MEMORY_SECONDS);
  const { rows } = await sql<{ failures: number }>`
    insert into login_throttle as t (key, failures, window_started_at, last_failure_at)
    values (${key}, 1, ${at}::timestamptz, ${at}::timestamptz)
    on conflict (key) do update set
      failures = case when t.last_failure_at <= ${stale}::timestamptz then 1 else t.failures + 1 end,
      window_started_at = case when t.last_failure_at <= ${stale}::timestamptz then ${at}::timestamptz else t.window_started_at end,
      last_failure_at = ${at}::timestamptz
    where t.last_failure_at <= ${stale}::timestamptz
      or t.failures < ${free}::int
      or t.last_failure_at + make_interval(secs => least(power(2, t.failures - ${free}::int), ${policy.maxDelaySeconds}::float8))
         <= ${at}::timestamptz
    returning failures
  `.execute(db);
  return rows.length > 0;
}

async function pairRetryAfter(db: Kysely<DB>, key: string, free: number, policy: ThrottlePolicy, now: Date): Promise<number> {
  const row = await db.selectFrom('loginThrottle').where('key', '=', key).select(['failures', 'lastFailureAt']).executeTakeFirst();
  if (!row) return 1;
  return (row.lastFailureAt.getTime() + pairDelaySeconds(row.failures, free, policy) * 1000 - now.getTime()) / 1000;
}

/**
 * Counts a sign-in (or two-factor) attempt before the secret is checked, or refuses it with
 * 429 `rate_limited` and Retry-After. Call `releaseAttempt` when the attempt succeeds.
 */
export async function reserveAttempt(db: Kysely<DB>, subject: ThrottleSubject, policy: ThrottlePolicy, now: Date): Promise<void> {
  const keys = keysOf(subject);
  if ((await countInWindow(db, keys.ip, policy.ipCap, policy, now)) === undefined) {
    throw throttled(await windowRetryAfter(db, keys.ip, policy, now));
  }
  const accountFailures = await countInWindow(db, keys.account, policy.accountHardCap ?? NO_CAP, policy, now);
  if (accountFailures === undefined) throw throttled(await windowRetryAfter(db, keys.account, policy, now));
  const free = accountFailures > policy.accountSoftCap ? 0 : policy.freeFailures;
  if (!(await reservePair(db, keys.pair, free, policy, now))) {
    throw throttled(await pairRetryAfter(db, keys.pair, free, policy, now));
  }
}

/** A successful attempt was not a failure: forget the pair's history and uncount it elsewhere. */
export async function releaseAttempt(db: Kysely<DB>, subject: ThrottleSubject): Promise<void> {
  const keys = keysOf(subject);
  await db.deleteFrom('loginThrottle').where('key', '=', keys.pair).execute();
  await db
    .updateTable('loginThrottle')
    .set({ failures: sql<number>`greatest(failures - 1, 0)` })
    .where('key', 'in', [keys.ip, keys.account])
    .execute();
}

/** Deletes counters nobody has touched for a day (for a periodic job). */
export async function pruneLoginThrottle(db: Kysely<DB>, now: Date): Promise<number> {
  const result = await db
    .deleteFrom('loginThrottle')
    .where('lastFailureAt', '<', new Date(now.getTime() - PAIR_MEMORY_SECONDS * 1000))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
