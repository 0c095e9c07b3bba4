import { randomBytes } from 'node:crypto';
import type { DB } from '@instainstru/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import { AppError, notFound } from '../shared/errors.ts';
import type { Redis } from '../shared/redis.ts';

/**
 * One money action per booking at a time (spec/payments.md §Money-movement hygiene): a
 * PostgreSQL row lock on the booking, taken with NOWAIT in every transaction of the action, plus
 * a mutex held for the whole action — in Redis when Redis is configured (SET NX PX with a
 * random token, released by a compare-and-delete script), in this process otherwise (the
 * embedded default runs one process). Money actions FAIL CLOSED: when the lock is held, or
 * Redis is configured but cannot be reached, the action is refused with 503 and Retry-After
 * instead of running unguarded (the original platform failed open).
 *
 * The row lock alone cannot span a provider call: provider calls never run inside a database
 * transaction (on the embedded PGlite a transaction holds the only connection, and a slow
 * provider would hold row locks), so an action is a few short locked transactions around the
 * call, and the mutex covers the gaps. Across processes without Redis, the pending
 * payment_operations row written before each call (operations.ts) is the claim.
 */

/** How long a Redis money lock lives if its holder dies without releasing it. */
export const MONEY_LOCK_TTL_MS = 120_000;
/** What a refused caller is told to wait. */
export const MONEY_LOCK_RETRY_AFTER_SECONDS = 2;

export interface MoneyLockDeps {
  /** The shared Redis, when configured (REDIS_URL). Its absence means a one-process deployment. */
  readonly redis?: Redis | undefined;
}

/** The held lock of one booking, handed to the action. */
export interface MoneyLock {
  readonly bookingId: string;
  /** Runs `work` in a new transaction that first locks the booking row (FOR UPDATE NOWAIT). */
  transaction<T>(work: (trx: Transaction<DB>) => Promise<T>): Promise<T>;
}

const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Bookings whose money action runs in this process right now (used when there is no Redis). */
const localHolders = new Map<string, string>();

function refused(detail: string): AppError {
  return new AppError('unavailable', detail, null, MONEY_LOCK_RETRY_AFTER_SECONDS);
}

const BUSY = 'Another payment action on this booking is in progress; try again in a moment.';

async function acquire(deps: MoneyLockDeps, bookingId: string, token: string): Promise<() => Promise<void>> {
  const redis = deps.redis;
  if (!redis) {
    if (localHolders.has(bookingId)) throw refused(BUSY);
    localHolders.set(bookingId, token);
    return async () => {
      if (localHolders.get(bookingId) === token) localHolders.delete(bookingId);
    };
  }
  const key = `money-lock:booking:${bookingId}`;
  if (redis.status !== 'ready') {
    throw refused('Payment actions are paused because the lock service (Redis) cannot be reached; try again shortly.');
  }
  let answer: string | null;
  try {
    answer = await redis.set(key, token, 'PX', MONEY_LOCK_TTL_MS, 'NX');
  } catch {
    throw refused('Payment actions are paused because the lock service (Redis) cannot be reached; try again shortly.');
  }
  if (answer !== 'OK') throw refused(BUSY);
  return async () => {
    try {
      await redis.eval(RELEASE_SCRIPT, 1, key, token);
    } catch {
      // Unreachable now: the key expires on its own after MONEY_LOCK_TTL_MS.
    }
  };
}

/** Locks the booking row or refuses at once (55P03 lock_not_available → 503). */
export async function lockBookingRowNowait(trx: Transaction<DB>, bookingId: string): Promise<void> {
  let found: { id: string } | undefined;
  try {
    const result = await sql<{ id: string }>`select id from bookings where id = ${bookingId} for update nowait`.execute(trx);
    found = result.rows[0];
  } catch (error) {
    if ((error as { code?: unknown }).code === '55P03') throw refused(BUSY);
    throw error;
  }
  if (!found) throw notFound('Booking', 'bookingId');
}

/**
 * Runs one money action on a booking under its lock (see the module comment). `fn` receives the
 * lock; every database change of the action goes through `lock.transaction`, and provider calls
 * happen between those transactions. Not re-entrant: functions that need the lock inside an
 * action take the `MoneyLock` instead of taking it again.
 */
export async function withMoneyLock<T>(
  db: Kysely<DB>,
  deps: MoneyLockDeps,
  bookingId: string,
  fn: (lock: MoneyLock) => Promise<T>,
): Promise<T> {
  const token = randomBytes(16).toString('hex');
  const release = await acquire(deps, bookingId, token);
  try {
    return await fn({
      bookingId,
      transaction: (work) =>
        db.transaction().execute(async (trx) => {
          await lockBookingRowNowait(trx, bookingId);
          return work(trx);
        }),
    });
  } finally {
    await release();
  }
}
