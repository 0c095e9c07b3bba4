import { createTestDatabase, type TestDatabase, truncateAll } from '@instainstru/db/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withMoneyLock } from '../src/payments/money-lock.ts';
import type { PaymentProvider } from '../src/payments/provider.ts';
import { createPaymentProvider } from '../src/payments/providers/index.ts';
import { loadConfig } from '../src/config.ts';
import { fixedClock } from '../src/shared/clock.ts';
import type { TestApi } from './support/api.ts';
import { checkOut, postBooking } from './support/bookings.ts';
import { bookPaidLesson, creditOf, giveCredit, key, moneyOf, runJob, startPaymentsApi, sweep } from './support/payment-lifecycle.ts';
import { startRedisServer } from './support/redis.ts';
import { type OfflineTestCardId, saveTestCard } from './support/payments.ts';
import { actingUser, createBookableInstructor } from './support/bookings.ts';
import { startStripeFake, type StripeFake } from './support/stripe-fake.ts';

// Tuesday 2027-03-02 10:00 New York; lessons on Wednesday 14:00Z (t = 23 h: authorized at checkout)
// or Thursday 15:00Z (t = 48 h: authorized at T−24h).
const NOW = '2027-03-02T15:00:00Z';
const SOON = '2027-03-03T14:00:00Z';
const LATER = '2027-03-04T15:00:00Z';
const DAYS = ['2027-03-03', '2027-03-04', '2027-03-05'];

/**
 * A provider that really makes a call, then "crashes" before the caller can record the answer
 * (the process dying between the provider call and the commit), while `crash.next` names the call.
 */
function crashingAfter(real: PaymentProvider, crash: { next: 'authorize' | 'capture' | null }): PaymentProvider {
  return new Proxy(real, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result = await (value as (...callArgs: unknown[]) => Promise<unknown>).apply(target, args);
        if (crash.next === property) {
          crash.next = null;
          throw new Error(`the process died right after ${String(property)} answered`);
        }
        return result;
      };
    },
  });
}

describe.each(['offline', 'stripe'] as const)('R3 and I3: one effect per purpose (%s provider)', (providerName) => {
  const clock = fixedClock(NOW);
  let api: TestApi;
  let fake: StripeFake | undefined;
  const crash: { next: 'authorize' | 'capture' | null } = { next: null };

  let database: TestDatabase;

  beforeAll(async () => {
    if (providerName === 'stripe') fake = await startStripeFake({ clock });
    database = await createTestDatabase();
    // the provider the API would build, wrapped so a test can make it "crash" right after a call
    const config = loadConfig({ NODE_ENV: 'test', ...(fake ? fake.env : { PAYMENTS_PROVIDER: 'offline' }) });
    const real = createPaymentProvider(config.payments, database.db, { clock });
    api = await startPaymentsApi({ clock, stripe: fake, payments: crashingAfter(real, crash), database });
  });
  afterAll(async () => {
    await api?.close();
    await database?.cleanup();
    await fake?.close();
  });
  beforeEach(async () => {
    clock.set(NOW);
    crash.next = null;
    fake?.reset();
    await sql`delete from pgboss.job`.execute(api.database.db);
    await truncateAll(api.database);
  });

  const intentsAtProvider = async () =>
    fake
      ? fake.countFor('POST', '/v1/payment_intents')
      : Number(
          (
            await api.database.db
              .selectFrom('offlinePaymentObjects')
              .select((eb) => eb.fn.countAll<string>().as('n'))
              .where('kind', '=', 'payment_intent')
              .executeTakeFirstOrThrow()
          ).n,
        );

  /** A held lesson 23 h away and a student with a saved card, ready to check out. */
  async function heldLesson() {
    const instructor = await createBookableInstructor(api, { days: DAYS, hourlyRateCents: 12_000 });
    const student = await actingUser(api);
    const card = await saveTestCard(api, student.headers, (fake ? 'pm_card_visa' : 'pm_offline_visa') as OfflineTestCardId);
    const booked = await postBooking(api, student.headers, {
      instructorId: instructor.instructorId,
      serviceId: instructor.serviceId,
      startsAt: SOON,
      durationMinutes: 60,
      locationType: 'online',
    });
    expect(booked.status).toBe(201);
    return { bookingId: booked.body.id as string, student, card };
  }

  it('one checkout key sent 20× at once and 20× in sequence: one booking payment, one authorization at the provider', async () => {
    const { bookingId, student, card } = await heldLesson();
    const idem = key('checkout');
    const burst = await Promise.all(
      Array.from({ length: 20 }, () => checkOut(api, student.headers, bookingId, { paymentMethodId: card.id }, idem)),
    );
    const statuses = burst.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(1);
    // the rest were told the first is still running (409, retry) or got its stored answer replayed
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
    const first = burst.find((answer) => answer.status === 200)!;
    expect(first.body).toMatchObject({ status: 'confirmed', paymentStatus: 'authorized', checkout: { outcome: 'authorized' } });
    for (let i = 0; i < 20; i += 1) {
      const again = await checkOut(api, student.headers, bookingId, { paymentMethodId: card.id }, idem);
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body.payment).toEqual(first.body.payment);
    }
    const money = await moneyOf(api, bookingId);
    expect(money.operations.map((operation) => operation.idempotencyKey)).toEqual([`authorize:${bookingId}:1`]);
    expect(await intentsAtProvider()).toBe(1);
    const rows = await api.database.db.selectFrom('bookingPayments').select('bookingId').execute();
    expect(rows).toHaveLength(1);
  });

  it('20 checkouts with different keys at once: the money lock lets one through, one authorization', async () => {
    const { bookingId, student, card } = await heldLesson();
    const burst = await Promise.all(
      Array.from({ length: 20 }, () => checkOut(api, student.headers, bookingId, { paymentMethodId: card.id })),
    );
    const statuses = burst.map((answer) => answer.status);
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    for (const refused of burst.filter((answer) => answer.status === 503)) {
      expect(refused.headers.get('retry-after')).toBe('2');
      expect(refused.body.code).toBe('unavailable');
    }
    expect(burst.filter((answer) => answer.body.checkout?.outcome === 'authorized')).toHaveLength(1);
    expect(await intentsAtProvider()).toBe(1);
    expect((await moneyOf(api, bookingId)).operations).toHaveLength(1);
  });

  it('a crash after the authorization call and before its commit: the retry sends the same key and the provider makes one authorization', async () => {
    const { bookingId, student, card } = await heldLesson();
    const idem = key('checkout');
    crash.next = 'authorize';
    const crashed = await checkOut(api, student.headers, bookingId, { paymentMethodId: card.id }, idem);
    expect(crashed.status).toBe(500);
    let money = await moneyOf(api, bookingId);
    expect(money.operations).toEqual([expect.objectContaining({ idempotencyKey: `authorize:${bookingId}:1`, status: 'pending' })]);
    expect(money.booking.status).toBe('pending_payment');
    expect(await intentsAtProvider()).toBe(1);

    // the client retries (a 5xx leaves the key free): the pending call is resumed under its key
    const retried = await checkOut(api, student.headers, bookingId, { paymentMethodId: card.id }, idem);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'confirmed', paymentStatus: 'authorized' });
    money = await moneyOf(api, bookingId);
    expect(money.operations).toEqual([expect.objectContaining({ idempotencyKey: `authorize:${bookingId}:1`, status: 'succeeded' })]);
    expect(await intentsAtProvider()).toBe(fake ? 2 : 1); // two requests reached Stripe…
    if (fake) {
      expect(fake.callsFor(`authorize:${bookingId}:1`)).toBe(2);
      expect(fake.executionsFor(`authorize:${bookingId}:1`)).toBe(1); // …and it made one authorization
      expect(fake.state.paymentIntents.size).toBe(1);
    }
  });

  it('a crash after the capture call: the next sweep resumes the same key; one capture, one transfer', async () => {
    const lesson = await bookPaidLesson(api, { startsAt: LATER, days: DAYS, stripe: fake, tierFeeBps: 1200 });
    clock.set('2027-03-03T15:00:00Z');
    await sweep(api, 'payments.authorization-sweep');
    clock.set('2027-03-05T16:15:00Z');
    crash.next = 'capture';
    const first = await sweep(api, 'payments.capture-sweep');
    expect(first).toMatchObject({ processed: 0, failed: 1 });
    expect((await moneyOf(api, lesson.bookingId)).operations.at(-1)).toMatchObject({
      idempotencyKey: `capture:${lesson.bookingId}:1`,
      status: 'pending',
    });
    clock.set('2027-03-05T16:30:00Z');
    const second = await sweep(api, 'payments.capture-sweep');
    expect(second).toMatchObject({ processed: 1, failed: 0 });
    const money = await moneyOf(api, lesson.bookingId);
    expect(money.operations.map((operation) => [operation.idempotencyKey, operation.status])).toEqual([
      [`authorize:${lesson.bookingId}:1`, 'succeeded'],
      [`capture:${lesson.bookingId}:1`, 'succeeded'],
      [`transfer:${lesson.bookingId}:1`, 'succeeded'],
    ]);
    expect(money.payment).toMatchObject({ capturedCents: 13_440, transferredCents: 10_560, settlementOutcome: 'completed' });
    if (fake) {
      expect(fake.callsFor(`capture:${lesson.bookingId}:1`)).toBe(2);
      expect(fake.executionsFor(`capture:${lesson.bookingId}:1`)).toBe(1);
    }
  });
  it('a crash during a cancellation’s capture: the cancellation stands, its job finishes the money under the same key', async () => {
    const lesson = await bookPaidLesson(api, { startsAt: LATER, days: DAYS, stripe: fake, tierFeeBps: 1200 });
    clock.set('2027-03-03T15:00:00Z');
    await sweep(api, 'payments.authorization-sweep');
    clock.set('2027-03-04T12:00:00Z'); // 3 h before: captured, half of LP as credit, half of P to the instructor
    crash.next = 'capture';
    const cancelled = await api.request(`/api/v1/bookings/${lesson.bookingId}/cancel`, {
      method: 'POST',
      json: {},
      headers: lesson.studentHeaders,
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', quote: { outcome: 'very_late_split' } });
    let money = await moneyOf(api, lesson.bookingId);
    expect(money.booking.paymentStatus).toBe('authorized');
    expect(money.operations.at(-1)).toMatchObject({ idempotencyKey: `capture:${lesson.bookingId}:1`, status: 'pending' });
    // the job the cancellation sent in its transaction
    const steps = (await runJob(api, 'payments.settle-booking', { bookingId: lesson.bookingId })).steps;
    expect(steps).toEqual(['capture:captured', 'settled:very_late_split', 'transfer:transferred']);
    money = await moneyOf(api, lesson.bookingId);
    expect(money.payment).toMatchObject({ capturedCents: 13_440, transferredCents: 5280, settlementOutcome: 'very_late_split' });
    expect(money.operations.filter((operation) => operation.purpose === 'capture')).toHaveLength(1);
    if (fake) expect(fake.executionsFor(`capture:${lesson.bookingId}:1`)).toBe(1);
  });
});

describe('money locks fail closed', () => {
  const clock = fixedClock(NOW);
  let api: TestApi;

  beforeAll(async () => {
    api = await startPaymentsApi({ clock });
  });
  afterAll(async () => {
    await api?.close();
  });
  beforeEach(async () => {
    clock.set(NOW);
    await truncateAll(api.database);
  });

  it('a held lock refuses a second money action with 503 and Retry-After, and nothing changes', async () => {
    const lesson = await bookPaidLesson(api, { startsAt: LATER, days: DAYS });
    const deps = { redis: api.deps.redis };
    await withMoneyLock(api.database.db, deps, lesson.bookingId, async () => {
      const cancel = await api.request(`/api/v1/bookings/${lesson.bookingId}/cancel`, {
        method: 'POST',
        json: {},
        headers: lesson.studentHeaders,
      });
      expect(cancel.status).toBe(503);
      expect(cancel.headers.get('retry-after')).toBe('2');
      expect(cancel.body).toMatchObject({ code: 'unavailable', detail: expect.stringMatching(/Another payment action/) });
      const reschedule = await api.request(`/api/v1/bookings/${lesson.bookingId}/reschedule`, {
        method: 'POST',
        json: { startsAt: '2027-03-05T15:00:00Z' },
        headers: lesson.studentHeaders,
      });
      expect(reschedule.status).toBe(503);
      // a nested action on the same booking is refused too (the lock is not re-entrant)
      await expect(withMoneyLock(api.database.db, deps, lesson.bookingId, async () => 'ran')).rejects.toMatchObject({
        code: 'unavailable',
      });
    });
    expect((await moneyOf(api, lesson.bookingId)).booking).toMatchObject({ status: 'confirmed', startsAt: new Date(LATER) });
    const cancel = await api.request(`/api/v1/bookings/${lesson.bookingId}/cancel`, {
      method: 'POST',
      json: {},
      headers: lesson.studentHeaders,
    });
    expect(cancel.status).toBe(200);
  });

  it('a row lock held by another transaction refuses at once (FOR UPDATE NOWAIT)', async () => {
    // Two connections are needed: only on a PostgreSQL server (PGlite is one session).
    if (!process.env.DATABASE_URL) return expect(api.database.db).toBeDefined();
    const lesson = await bookPaidLesson(api, { startsAt: LATER, days: DAYS });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = api.database.db.transaction().execute(async (trx) => {
      await sql`select id from bookings where id = ${lesson.bookingId} for update`.execute(trx);
      locked();
      await held;
    });
    await isLocked;
    const refused = await withMoneyLock(api.database.db, {}, lesson.bookingId, (lock) => lock.transaction(async () => 'ran')).catch(
      (error: unknown) => error,
    );
    release();
    await holder;
    expect(refused).toMatchObject({ code: 'unavailable', retryAfterSeconds: 2 });
  });
});

describe('money locks with Redis configured but unreachable', () => {
  const clock = fixedClock(NOW);

  it('refuse every money action (503) instead of running without the mutex, and work again when Redis is back', async () => {
    const redis = await startRedisServer();
    const api = await startPaymentsApi({ clock, redisUrl: redis.url });
    try {
      expect(api.deps.redis?.status).toBe('ready');
      const lesson = await bookPaidLesson(api, { startsAt: LATER, days: DAYS });
      expect(lesson.checkout.status).toBe(200);

      await redis.kill();
      const cancel = await api.request(`/api/v1/bookings/${lesson.bookingId}/cancel`, {
        method: 'POST',
        json: {},
        headers: lesson.studentHeaders,
      });
      expect(cancel.status).toBe(503);
      expect(cancel.headers.get('retry-after')).toBe('2');
      expect(cancel.body.detail).toMatch(/lock service \(Redis\)/);
      expect((await moneyOf(api, lesson.bookingId)).booking.status).toBe('confirmed');
      // the jobs refuse as well: the sweep skips the booking until Redis is back
      clock.set('2027-03-03T15:00:00Z');
      expect(await sweep(api, 'payments.authorization-sweep')).toMatchObject({ processed: 0, failed: 1 });
      expect((await moneyOf(api, lesson.bookingId)).payment.authorizedAt).toBeNull();

      await redis.restart();
      for (let i = 0; i < 50 && api.deps.redis?.status !== 'ready'; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await sweep(api, 'payments.authorization-sweep')).toMatchObject({ processed: 1, failed: 0 });
      expect((await moneyOf(api, lesson.bookingId)).booking.paymentStatus).toBe('authorized');
    } finally {
      await api.close();
      await redis.stop();
    }
  });
});

describe('R8: concurrent checkouts spending one credit balance', () => {
  const clock = fixedClock(NOW);
  let api: TestApi;

  beforeAll(async () => {
    api = await startPaymentsApi({ clock });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('50 checkouts at once against $300 of credit reserve $300 in all, never more, and each card carries the rest', async () => {
    await truncateAll(api.database);
    const days = ['2027-03-04', '2027-03-05', '2027-03-06', '2027-03-07', '2027-03-08', '2027-03-09'];
    const instructor = await createBookableInstructor(api, { days, hourlyRateCents: 12_000 });
    const student = await actingUser(api);
    await giveCredit(api, student.userId, 30_000);
    const card = await saveTestCard(api, student.headers, 'pm_offline_visa');
    // nine 60-minute lessons a day, 75 minutes apart (the 15-minute buffer), from 09:00 New York (14:00Z)
    const starts = days.flatMap((day) => Array.from({ length: 9 }, (_, i) => new Date(Date.parse(`${day}T14:00:00Z`) + i * 75 * 60_000)));
    const ids: string[] = [];
    for (const startsAt of starts.slice(0, 50)) {
      const booked = await postBooking(api, student.headers, {
        instructorId: instructor.instructorId,
        serviceId: instructor.serviceId,
        startsAt: startsAt.toISOString(),
        durationMinutes: 60,
        locationType: 'online',
      });
      expect(booked.status).toBe(201);
      ids.push(booked.body.id);
    }
    const answers = await Promise.all(ids.map((id) => checkOut(api, student.headers, id, { paymentMethodId: card.id })));
    expect(answers.map((answer) => answer.status)).toEqual(ids.map(() => 200));
    const payments = await api.database.db.selectFrom('bookingPayments').select(['creditsAppliedCents', 'cardAmountCents']).execute();
    expect(payments).toHaveLength(50);
    expect(payments.reduce((sum, row) => sum + row.creditsAppliedCents, 0)).toBe(30_000);
    // credits never cover the student fee: SF 12% of $120 = $14.40 stays on every card
    for (const row of payments) expect(row.cardAmountCents).toBe(12_000 - row.creditsAppliedCents + 1440);
    expect(await creditOf(api, student.userId)).toEqual({ availableCents: 0, reservedCents: 30_000 });
  });
});
