import { randomUUID } from 'node:crypto';
import { type DB, newId } from '@instainstru/db';
import type { TestDatabase } from '@instainstru/db/testing';
import { type Kysely, sql } from 'kysely';
import { getCreditBalance, issueCredit } from '../../src/credits/index.ts';
import { JOBS, type CoreJobName, type JobPayloadInput, type CoreJobs } from '../../src/jobs/index.ts';
import { performEffect, performExternalEffect } from '../../src/jobs/effects.ts';
import { createCoreHandlers } from '../../src/jobs/handlers.ts';
import { type JobContext, type JobHandler, type RunningWorker, startWorker } from '../../src/jobs/start-worker.ts';
import type { MoneyDeps } from '../../src/payments/money-deps.ts';
import type { PaymentProvider } from '../../src/payments/provider.ts';
import type { Clock } from '../../src/shared/clock.ts';
import { startTestApi, type TestApi } from './api.ts';
import { actingUser, createBookableInstructor, postConfirmedBooking } from './bookings.ts';
import { silentLogger } from './jobs.ts';
import type { StripeFake } from './stripe-fake.ts';

/**
 * Helpers for the payment-lifecycle tests: an API on a fake clock (offline provider, or Stripe
 * through the Stripe fake), the real job handlers run in-process or by a real worker, payout-ready
 * instructors and students with cards and credit.
 */

/** Rate limits off: these tests are about money, not the limiter. */
export const PAYMENTS_TEST_ENV = {
  RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' }, booking: { mode: 'off' }, payment: { mode: 'off' } }),
};

export async function startPaymentsApi(options: {
  clock: Clock;
  stripe?: StripeFake | undefined;
  payments?: PaymentProvider;
  redisUrl?: string | null;
  env?: Record<string, string>;
  /** A database the caller made (and cleans up), e.g. to build a provider on it first. */
  database?: TestDatabase;
}): Promise<TestApi> {
  return startTestApi({
    ...(options.database ? { database: options.database } : {}),
    clock: options.clock,
    env: { ...PAYMENTS_TEST_ENV, ...(options.stripe ? options.stripe.env : { PAYMENTS_PROVIDER: 'offline' }), ...options.env },
    ...(options.payments ? { payments: options.payments } : {}),
    ...(options.redisUrl !== undefined ? { redisUrl: options.redisUrl } : {}),
  });
}

/** The money deps the API itself uses. */
export function moneyDepsOf(api: TestApi): MoneyDeps {
  return { payments: api.deps.payments, clock: api.deps.clock, jobs: api.deps.jobs, redis: api.deps.redis, logger: silentLogger };
}

/**
 * Runs one job's real handler in this process, as a worker would (same context: effects, queue,
 * the API's clock), without waiting for pg-boss's own clock to make it due.
 */
export async function runJob<N extends CoreJobName>(api: TestApi, name: N, payload: JobPayloadInput<CoreJobs, N>): Promise<any> {
  const db = api.database.db;
  const handlers = createCoreHandlers({ payments: api.deps.payments, redis: api.deps.redis });
  const handler = handlers[name] as JobHandler<unknown> | undefined;
  if (!handler) throw new Error(`no handler for ${name}`);
  const parsed = JOBS[name].payload.parse(payload);
  const jobId = randomUUID();
  const jobKey = JOBS[name].effectKey?.(parsed as never) ?? jobId;
  const context: JobContext = {
    jobId,
    name,
    attempt: 1,
    isLastAttempt: false,
    signal: new AbortController().signal,
    clock: api.deps.clock,
    logger: silentLogger,
    queue: api.deps.jobs,
    effect: (effect, perform) => performEffect(db, { jobName: name, jobKey, jobId, effect }, perform),
    externalEffect: (effect, perform) => performExternalEffect(db, { jobName: name, jobKey, jobId, effect }, perform),
  };
  return handler(db, parsed, context);
}

/** A scheduled sweep's run for the current (fake) instant. */
export function sweep(api: TestApi, name: 'payments.authorization-sweep' | 'payments.authorization-retry' | 'payments.capture-sweep') {
  return runJob(api, name, { schedule: name, slot: api.deps.clock.now().toISOString() });
}

/** A real pg-boss worker running every core handler (with the API's provider) on the fake clock. */
export function startPaymentWorker(api: TestApi): Promise<RunningWorker> {
  return startWorker(api.database.db, {
    queue: api.deps.jobs,
    handlers: createCoreHandlers({ payments: api.deps.payments, redis: api.deps.redis }),
    clock: api.deps.clock,
    logger: silentLogger,
    pollIntervalMs: 25,
    heartbeatIntervalMs: 1_000,
    shutdownTimeoutMs: 5_000,
  });
}

/**
 * pg-boss decides "due" by the database's clock, the application by its own (fake) one: makes
 * every job due by the fake clock runnable now, then waits until the worker has run every
 * runnable job (including the ones those jobs sent).
 */
export async function runDueJobs(db: Kysely<DB>, clock: Clock, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await sql`update pgboss.job set start_after = now() where state in ('created', 'retry') and start_after <= ${clock.now()}::timestamptz and start_after > now()`.execute(
      db,
    );
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pgboss.job
      where (state in ('created', 'retry') and start_after <= now()) or state = 'active'`.execute(db);
    if ((rows[0]?.n ?? 0) === 0) return;
    if (Date.now() > deadline) throw new Error(`jobs still running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

/** Sends a scheduled sweep job (as the scheduler would at this fake instant). */
export async function sendSweep(
  api: TestApi,
  name: 'payments.authorization-sweep' | 'payments.authorization-retry' | 'payments.capture-sweep',
): Promise<void> {
  await api.deps.jobs.send(api.database.db, name, { schedule: name, slot: api.deps.clock.now().toISOString() });
}

/** Gives the instructor a connected payout account through the real API (and finishes onboarding at the Stripe fake). */
export async function readyPayoutAccount(api: TestApi, instructorHeaders: Record<string, string>, stripe?: StripeFake): Promise<string> {
  const link = await api.request('/api/v1/payouts/onboarding-link', { method: 'POST', json: {}, headers: instructorHeaders });
  if (link.status !== 201) throw new Error(`onboarding link: ${link.status} ${JSON.stringify(link.body)}`);
  if (stripe) {
    const account = [...stripe.state.accounts.keys()].at(-1)!;
    stripe.completeOnboarding(account);
  }
  const state = await api.request('/api/v1/payouts/account', { headers: instructorHeaders });
  if (state.status !== 200 || !state.body.payoutsEnabled) throw new Error(`payout account not ready: ${JSON.stringify(state.body)}`);
  return state.body.accountId as string;
}

/** Credit for a student (an admin grant valid one year), so checkouts can spend it. */
export async function giveCredit(api: TestApi, userId: string, amountCents: number): Promise<void> {
  const now = api.deps.clock.now();
  await api.database.db.transaction().execute((trx) =>
    issueCredit(trx, {
      userId,
      amountCents,
      source: 'admin',
      expiresAt: new Date(now.getTime() + 365 * 24 * 3_600_000),
      reason: 'test credit',
      now,
    }),
  );
}

export interface Lesson {
  bookingId: string;
  studentId: string;
  instructorId: string;
  studentHeaders: Record<string, string>;
  instructorHeaders: Record<string, string>;
  checkout: any;
}

/**
 * A student with a saved card books one lesson of a payout-ready instructor and checks out.
 * Defaults: LP $120 (hourly $120, 60 min, online).
 */
export async function bookPaidLesson(
  api: TestApi,
  input: {
    startsAt: string;
    days: string[];
    hourlyRateCents?: number;
    durationMinutes?: number;
    tierFeeBps?: number;
    isFounding?: boolean;
    card?: string;
    creditCents?: number;
    stripe?: StripeFake | undefined;
    payout?: boolean;
  },
): Promise<Lesson> {
  const instructor = await createBookableInstructor(api, {
    days: input.days,
    hourlyRateCents: input.hourlyRateCents ?? 12_000,
    ...(input.tierFeeBps !== undefined ? { tierFeeBps: input.tierFeeBps } : {}),
    ...(input.isFounding !== undefined ? { isFounding: input.isFounding } : {}),
  });
  if (input.tierFeeBps !== undefined) {
    // The tier was earned just now (no drop pending): the pricing module keeps it.
    await api.database.db
      .updateTable('instructorProfiles')
      .set({ tierEvaluatedAt: api.deps.clock.now() })
      .where('userId', '=', instructor.instructorId)
      .execute();
  }
  if (input.payout !== false) await readyPayoutAccount(api, instructor.headers, input.stripe);
  const student = await actingUser(api);
  if (input.creditCents) await giveCredit(api, student.userId, input.creditCents);
  const checkout = await postConfirmedBooking(
    api,
    student.headers,
    {
      instructorId: instructor.instructorId,
      serviceId: instructor.serviceId,
      startsAt: input.startsAt,
      durationMinutes: input.durationMinutes ?? 60,
      locationType: 'online',
    },
    { card: input.card ?? (input.stripe ? 'pm_card_visa' : 'pm_offline_visa') },
  );
  return {
    bookingId: checkout.bookingId ?? '',
    studentId: student.userId,
    instructorId: instructor.instructorId,
    studentHeaders: student.headers,
    instructorHeaders: instructor.headers,
    checkout,
  };
}

/** The booking's money row and booking status, as the tests assert them. */
export async function moneyOf(api: TestApi, bookingId: string) {
  const db = api.database.db;
  const booking = await db.selectFrom('bookings').selectAll().where('id', '=', bookingId).executeTakeFirstOrThrow();
  const payment = await db.selectFrom('bookingPayments').selectAll().where('bookingId', '=', bookingId).executeTakeFirst();
  const operations = await db
    .selectFrom('paymentOperations')
    .select(['purpose', 'idempotencyKey', 'status', 'amountCents', 'providerObjectId'])
    .where('bookingId', '=', bookingId)
    .orderBy('createdAt')
    .orderBy('id')
    .execute();
  const events = await db
    .selectFrom('bookingEvents')
    .select(['type', 'data'])
    .where('bookingId', '=', bookingId)
    .orderBy('at')
    .orderBy('id')
    .execute();
  return { booking, payment: payment!, operations, events: events.map((event) => event.type), eventData: events };
}

/** The student's credit (the credits module's own figures). */
export async function creditOf(api: TestApi, userId: string): Promise<{ availableCents: number; reservedCents: number }> {
  const balance = await getCreditBalance(api.database.db, userId, api.deps.clock.now());
  return { availableCents: balance.availableCents, reservedCents: balance.reservedCents };
}

/** An idempotency key for a test request. */
export function key(prefix = 'k'): string {
  return `${prefix}-${newId()}`;
}
