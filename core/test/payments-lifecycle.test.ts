import { truncateAll } from '@instainstru/db/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningWorker } from '../src/jobs/start-worker.ts';
import { fixedClock } from '../src/shared/clock.ts';
import type { TestApi } from './support/api.ts';
import { actingUser, checkOut, postBooking } from './support/bookings.ts';
import {
  bookPaidLesson,
  creditOf,
  key,
  moneyOf,
  runDueJobs,
  runJob,
  sendSweep,
  startPaymentsApi,
  startPaymentWorker,
  sweep,
} from './support/payment-lifecycle.ts';
import { startStripeFake, type StripeFake } from './support/stripe-fake.ts';

// Tuesday 2027-03-02 10:00 New York; the lesson is Thursday 2027-03-04 15:00Z–16:00Z (t = 48 h at checkout)
const NOW = '2027-03-02T15:00:00Z';
const DAYS = ['2027-03-04', '2027-03-05', '2027-03-06', '2027-03-09', '2027-03-10'];
const START = '2027-03-04T15:00:00Z';

describe.each(['offline', 'stripe'] as const)('the whole lifecycle of one booking (%s provider)', (providerName) => {
  const clock = fixedClock(NOW);
  let api: TestApi;
  let fake: StripeFake | undefined;
  let worker: RunningWorker;

  beforeAll(async () => {
    if (providerName === 'stripe') fake = await startStripeFake({ clock });
    api = await startPaymentsApi({ clock, stripe: fake });
    worker = await startPaymentWorker(api);
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    clock.set(NOW);
    fake?.reset();
    await sql`delete from pgboss.job`.execute(api.database.db);
    await truncateAll(api.database);
  });

  it('book → checkout → authorize at T−24h → lesson → capture at end + 24h (auto-completed) → transfer, each effect once', async () => {
    // LP $120 at the 12% tier: SF $14.40, P $105.60; the card carries $134.40
    const lesson = await bookPaidLesson(api, { startsAt: START, days: DAYS, tierFeeBps: 1200, stripe: fake });
    expect(lesson.checkout.status).toBe(200);
    expect(lesson.checkout.body).toMatchObject({
      status: 'confirmed',
      paymentStatus: 'scheduled',
      holdExpiresAt: null,
      price: { lessonPriceCents: 12_000, studentFeeCents: 1440, instructorFeeBps: 1200, instructorPayoutCents: 10_560 },
      payment: {
        provider: providerName,
        offline: providerName === 'offline',
        cardAmountCents: 13_440,
        authorizeAt: '2027-03-03T15:00:00.000Z',
      },
      checkout: { outcome: 'scheduled' },
    });
    const { bookingId } = lesson;

    // nothing happens before T−24h
    clock.set('2027-03-03T14:59:00Z');
    await sendSweep(api, 'payments.authorization-sweep');
    await runDueJobs(api.database.db, clock);
    expect((await moneyOf(api, bookingId)).payment.authorizedAt).toBeNull();

    // T−24h: the per-booking job sent at checkout authorizes the card
    clock.set('2027-03-03T15:00:00Z');
    await runDueJobs(api.database.db, clock);
    let money = await moneyOf(api, bookingId);
    expect(money.booking.paymentStatus).toBe('authorized');
    expect(money.payment).toMatchObject({ authAttempts: 1, authorizedAt: new Date('2027-03-03T15:00:00Z') });
    expect(money.payment.paymentIntentId).toBeTruthy();
    expect(money.payment.authorizationExpiresAt!.getTime()).toBeGreaterThan(new Date('2027-03-05T17:00:00Z').getTime());

    // the lesson happens; the instructor never marks it complete. At end + 24h exactly nothing is captured yet
    clock.set('2027-03-05T16:00:00Z');
    await sendSweep(api, 'payments.capture-sweep');
    await runDueJobs(api.database.db, clock);
    expect((await moneyOf(api, bookingId)).payment.capturedAt).toBeNull();

    clock.set('2027-03-05T16:15:00Z');
    await sendSweep(api, 'payments.capture-sweep');
    await runDueJobs(api.database.db, clock);
    // a second sweep and a duplicate job change nothing
    await sendSweep(api, 'payments.authorization-sweep');
    clock.set('2027-03-05T16:30:00Z');
    await sendSweep(api, 'payments.capture-sweep');
    await api.deps.jobs.send(api.database.db, 'payments.settle-booking', { bookingId });
    await runDueJobs(api.database.db, clock);

    money = await moneyOf(api, bookingId);
    expect(money.booking).toMatchObject({ status: 'completed', paymentStatus: 'settled', completedAt: new Date('2027-03-05T16:15:00Z') });
    expect(money.payment).toMatchObject({
      capturedCents: 13_440,
      settlementOutcome: 'completed',
      settlementInstructorPayoutCents: 10_560,
      settlementStudentCreditCents: 0,
      settlementCardRefundCents: 0,
      settlementFeeKeptCents: 1440,
      transferredCents: 10_560,
    });
    expect(money.payment.transferId).toBeTruthy();
    expect(money.operations.map((operation) => [operation.idempotencyKey, operation.status, operation.amountCents])).toEqual([
      [`authorize:${bookingId}:1`, 'succeeded', 13_440],
      [`capture:${bookingId}:1`, 'succeeded', 13_440],
      [`transfer:${bookingId}:1`, 'succeeded', 10_560],
    ]);
    // (events written at one fake instant keep no order among themselves: booking and checkout, then one per step)
    expect(money.events.slice(0, 4).sort()).toEqual(['checkout', 'confirmed', 'created', 'held']);
    expect(money.events.slice(4)).toEqual(['payment_authorized', 'completed', 'payment_captured', 'payment_settled', 'payout_transferred']);

    // the provider saw each effect once
    if (fake) {
      for (const operation of money.operations) expect(fake.executionsFor(operation.idempotencyKey)).toBe(1);
      const intent = fake.state.paymentIntents.get(money.payment.paymentIntentId!)!;
      expect(intent).toMatchObject({ status: 'succeeded', amount_received: 13_440 });
      expect(fake.state.transfers.get(money.payment.transferId!)).toMatchObject({ amount: 10_560, transfer_group: `booking:${bookingId}` });
    } else {
      const objects = await api.database.db
        .selectFrom('offlinePaymentObjects')
        .select(['kind', 'status', 'amountCents', 'amountCapturedCents'])
        .where('kind', 'in', ['payment_intent', 'transfer'])
        .orderBy('createdAt')
        .execute();
      expect(objects).toEqual([
        { kind: 'payment_intent', status: 'succeeded', amountCents: 13_440, amountCapturedCents: 13_440 },
        { kind: 'transfer', status: expect.any(String), amountCents: 10_560, amountCapturedCents: 0 },
      ]);
    }
    const audit = await api.database.db.selectFrom('auditLog').select('action').where('resourceId', '=', bookingId).orderBy('at').execute();
    expect(audit.map((row) => row.action)).toEqual(
      expect.arrayContaining([
        'payment.checkout',
        'payment.authorize',
        'booking.complete',
        'payment.capture',
        'payment.settle',
        'payment.transfer',
      ]),
    );
  });

  it('a lesson less than 24 h away is authorized at checkout; a decline keeps the hold for another card', async () => {
    const lesson = await bookPaidLesson(api, {
      startsAt: '2027-03-03T14:00:00Z',
      days: ['2027-03-03'],
      stripe: fake,
      card: fake ? 'pm_card_chargeCustomerFail' : 'pm_offline_declined',
    });
    expect(lesson.checkout.status).toBe(402);
    expect(lesson.checkout.body.code).toBe('card_declined');
    let money = await moneyOf(api, lesson.bookingId);
    expect(money.booking).toMatchObject({ status: 'pending_payment', paymentStatus: 'payment_method_required' });
    expect(money.booking.holdExpiresAt).toEqual(new Date('2027-03-02T15:30:00Z'));

    clock.set('2027-03-02T15:10:00Z');
    const saved = await api.request('/api/v1/payments/methods', {
      method: 'POST',
      json: { paymentMethodId: fake ? 'pm_card_visa' : 'pm_offline_visa' },
      headers: lesson.studentHeaders,
    });
    expect(saved.status).toBe(201);
    const again = await checkOut(api, lesson.studentHeaders, lesson.bookingId, { paymentMethodId: saved.body.id });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'confirmed', paymentStatus: 'authorized', checkout: { outcome: 'authorized' } });
    money = await moneyOf(api, lesson.bookingId);
    expect(money.operations.map((operation) => [operation.idempotencyKey, operation.status])).toEqual([
      [`authorize:${lesson.bookingId}:1`, 'failed'],
      [`authorize:${lesson.bookingId}:2`, 'succeeded'],
    ]);
    // the same request again answers the same state, and moves nothing
    const replay = await checkOut(api, lesson.studentHeaders, lesson.bookingId, { paymentMethodId: saved.body.id });
    expect(replay.body.checkout).toEqual({ outcome: 'unchanged' });
    expect((await moneyOf(api, lesson.bookingId)).operations).toHaveLength(2);
  });
});

describe('authorization failures, checkout expiry, capture failures (offline provider)', () => {
  const clock = fixedClock(NOW);
  let api: TestApi;
  const T = new Date(START).getTime();
  const H = 3_600_000;
  const at = (hoursFromStart: number) => new Date(T + hoursFromStart * H);

  beforeAll(async () => {
    api = await startPaymentsApi({ clock });
  });
  afterAll(async () => {
    await api?.close();
  });
  beforeEach(async () => {
    clock.set(NOW);
    await sql`delete from pgboss.job`.execute(api.database.db);
    await truncateAll(api.database);
  });

  const emails = async (bookingId: string) =>
    (await api.database.db.selectFrom('outbox').select(['template', 'payload']).orderBy('createdAt').execute())
      .filter((row) => (row.payload as { bookingId?: string }).bookingId === bookingId)
      .map((row) => row.template);

  it('a declined card: one e-mail, retries at +1h, +4h, +8h, the final warning at T−13h, cancelled at T−12h without penalty', async () => {
    const lesson = await bookPaidLesson(api, { startsAt: START, days: DAYS, card: 'pm_offline_declined', creditCents: 2000 });
    expect(lesson.checkout.body).toMatchObject({
      status: 'confirmed',
      payment: { cardAmountCents: 12_000 - 2000 + 1440, creditsAppliedCents: 2000 },
    });
    expect(await creditOf(api, lesson.studentId)).toEqual({ availableCents: 0, reservedCents: 2000 });
    const { bookingId } = lesson;
    const attempts = async () => (await moneyOf(api, bookingId)).operations.filter((operation) => operation.purpose === 'authorize').length;

    clock.set(at(-24));
    await sweep(api, 'payments.authorization-sweep');
    let money = await moneyOf(api, bookingId);
    expect(money.booking).toMatchObject({ status: 'confirmed', paymentStatus: 'payment_method_required' });
    expect(money.payment).toMatchObject({ lastFailureCode: 'card_declined', nextAuthAttemptAt: at(-23), failureNotifiedAt: at(-24) });
    expect(await emails(bookingId)).toEqual(['payment_authorization_failed']);

    const ladder: Array<[number, number, number | null]> = [
      // [hours from start, authorize attempts after the sweep, next attempt (hours from start)]
      [-23 - 1 / 60, 1, -23],
      [-23, 2, -20],
      [-20, 3, -16],
      [-17, 3, -16],
      [-16, 4, -8],
    ];
    for (const [hours, count, next] of ladder) {
      clock.set(at(hours));
      await sweep(api, 'payments.authorization-retry');
      expect(await attempts()).toBe(count);
      expect((await moneyOf(api, bookingId)).payment.nextAuthAttemptAt).toEqual(next === null ? null : at(next));
    }
    expect((await moneyOf(api, bookingId)).operations.map((operation) => operation.idempotencyKey)).toEqual(
      [1, 2, 3, 4].map((n) => `authorize:${bookingId}:${n}`),
    );

    clock.set(at(-13 - 1 / 60));
    await sweep(api, 'payments.authorization-retry');
    expect(await emails(bookingId)).toEqual(['payment_authorization_failed']);
    clock.set(at(-13));
    await sweep(api, 'payments.authorization-retry');
    await sweep(api, 'payments.authorization-retry');
    expect(await emails(bookingId)).toEqual(['payment_authorization_failed', 'payment_final_warning']);
    expect(await attempts()).toBe(4);

    clock.set(at(-12));
    await sweep(api, 'payments.authorization-retry');
    money = await moneyOf(api, bookingId);
    expect(money.booking).toMatchObject({
      status: 'cancelled',
      cancelledBy: 'system',
      cancellationReason: 'payment_failed',
      paymentStatus: 'settled',
    });
    expect(money.payment).toMatchObject({
      settlementOutcome: 'payment_failed',
      capturedCents: 0,
      settlementStudentCreditCents: 0,
      settlementInstructorPayoutCents: 0,
    });
    expect(await emails(bookingId)).toEqual(['payment_authorization_failed', 'payment_final_warning', 'booking_cancelled_payment_failed']);
    // no penalty: the reserved credit is back, nothing was ever charged
    expect(await creditOf(api, lesson.studentId)).toEqual({ availableCents: 2000, reservedCents: 0 });
    expect(await attempts()).toBe(4);
  });

  it('a checkout that never authorizes is cancelled after 30 minutes and its reserved credit released', async () => {
    const lesson = await bookPaidLesson(api, {
      startsAt: '2027-03-03T14:00:00Z',
      days: ['2027-03-03'],
      card: 'pm_offline_insufficient_funds',
      creditCents: 5000,
    });
    expect(lesson.checkout.status).toBe(402);
    expect(await creditOf(api, lesson.studentId)).toEqual({ availableCents: 0, reservedCents: 5000 });
    clock.set('2027-03-02T15:29:59Z');
    expect(await runJob(api, 'booking.hold-expiry', { bookingId: lesson.bookingId })).toMatchObject({ outcome: 'rescheduled' });
    clock.set('2027-03-02T15:30:00Z');
    expect(await runJob(api, 'booking.hold-expiry', { bookingId: lesson.bookingId })).toMatchObject({ outcome: 'released' });
    // the release sent the settlement job in its transaction
    const sent = await sql<{
      n: number;
    }>`select count(*)::int as n from pgboss.job where name = 'payments.settle-booking' and data->>'bookingId' = ${lesson.bookingId}`.execute(
      api.database.db,
    );
    expect(sent.rows[0]?.n).toBe(1);
    expect((await runJob(api, 'payments.settle-booking', { bookingId: lesson.bookingId })).steps).toEqual(['settled:released']);
    const money = await moneyOf(api, lesson.bookingId);
    expect(money.booking).toMatchObject({ status: 'cancelled', cancellationReason: 'hold_expired', paymentStatus: 'settled' });
    expect(money.payment.settlementOutcome).toBe('released');
    expect(await creditOf(api, lesson.studentId)).toEqual({ availableCents: 5000, reservedCents: 0 });
  });

  it('capture failure: retried over 48 h, then manual review, the student locked, the instructor paid in advance; an admin settles it', async () => {
    const lesson = await bookPaidLesson(api, { startsAt: START, days: DAYS, card: 'pm_offline_capture_fails' });
    const { bookingId } = lesson;
    clock.set(at(-24));
    await sweep(api, 'payments.authorization-sweep');
    expect((await moneyOf(api, bookingId)).booking.paymentStatus).toBe('authorized');

    const E = T + 25 * H + 15 * 60_000; // end + 24 h + 15 min
    const after = (hours: number) => new Date(E + hours * H);
    clock.set(after(0));
    await sweep(api, 'payments.capture-sweep');
    let money = await moneyOf(api, bookingId);
    expect(money.booking).toMatchObject({ status: 'completed', paymentStatus: 'authorized' });
    expect(money.payment).toMatchObject({ captureFailedSince: after(0), nextCaptureAttemptAt: after(2), capturedAt: null });

    for (const [hours, next] of [
      [1, 2],
      [2, 8],
      [8, 24],
      [24, 48],
    ] as const) {
      clock.set(after(hours));
      await sweep(api, 'payments.capture-sweep');
      expect((await moneyOf(api, bookingId)).payment.nextCaptureAttemptAt).toEqual(after(next));
    }
    expect((await moneyOf(api, bookingId)).operations.filter((operation) => operation.purpose === 'capture')).toHaveLength(4);

    clock.set(after(48));
    await sweep(api, 'payments.capture-sweep');
    money = await moneyOf(api, bookingId);
    expect(money.booking.paymentStatus).toBe('manual_review');
    expect(money.payment).toMatchObject({
      manualReviewReason: 'capture_failed',
      nextCaptureAttemptAt: null,
      payoutAdvancedAt: after(48),
      transferredCents: 10_200,
    });
    expect(money.operations.filter((operation) => operation.purpose === 'capture')).toHaveLength(5);
    expect(money.operations.at(-1)).toMatchObject({
      idempotencyKey: `advance-payout:${bookingId}:1`,
      status: 'succeeded',
      amountCents: 10_200,
    });
    const student = await api.database.db
      .selectFrom('users')
      .select(['status', 'statusReason'])
      .where('id', '=', lesson.studentId)
      .executeTakeFirstOrThrow();
    expect(student).toEqual({ status: 'locked', statusReason: 'payment_capture_failed' });
    const lockAudit = await api.database.db
      .selectFrom('auditLog')
      .select(['action', 'resourceType'])
      .where('resourceId', '=', lesson.studentId)
      .execute();
    expect(lockAudit).toContainEqual({ action: 'user.lock', resourceType: 'user' });
    expect(await emails(bookingId)).toEqual(['payment_capture_failed']);
    // a locked account cannot pay for another lesson
    const another = await postBooking(api, lesson.studentHeaders, {
      instructorId: lesson.instructorId,
      serviceId: (await api.database.db.selectFrom('bookings').select('serviceId').where('id', '=', bookingId).executeTakeFirstOrThrow())
        .serviceId,
      startsAt: '2027-03-10T15:00:00Z',
      durationMinutes: 60,
      locationType: 'online',
    });
    expect(another.status).toBe(201);
    expect((await checkOut(api, lesson.studentHeaders, another.body.id)).status).toBe(403);
    // nothing more happens on its own
    clock.set(after(72));
    await sweep(api, 'payments.capture-sweep');
    expect((await moneyOf(api, bookingId)).operations).toHaveLength(money.operations.length);

    const admin = await actingUser(api, 'admin');
    const resolve = (json: unknown) =>
      api.request(`/api/v1/admin/payments/${bookingId}/resolve`, {
        method: 'POST',
        json,
        headers: { ...admin.headers, 'idempotency-key': key() },
      });
    expect((await resolve({ action: 'retry_capture', reason: 'card updated by phone' })).body).toMatchObject({
      result: expect.stringMatching(/^capture_failed/),
      paymentStatus: 'manual_review',
    });
    expect((await resolve({ action: 'mark_settled', reason: 'paid by bank transfer' })).body).toMatchObject({
      result: 'settled',
      paymentStatus: 'settled',
    });
    expect((await resolve({ action: 'mark_settled', reason: 'again' })).status).toBe(409);
    const unlocked = await api.database.db
      .selectFrom('users')
      .select('status')
      .where('id', '=', lesson.studentId)
      .executeTakeFirstOrThrow();
    expect(unlocked.status).toBe('active');
    money = await moneyOf(api, bookingId);
    expect(money.payment).toMatchObject({ settlementOutcome: 'manually_settled', transferredCents: 10_200 });
    expect(money.operations.filter((operation) => operation.purpose === 'advance-payout' || operation.purpose === 'transfer')).toHaveLength(
      1,
    );
  });
});

describe('re-authorization driven by capture_before (Stripe fake: Visa off-session lasts 4 days 18 hours)', () => {
  const clock = fixedClock(NOW);
  let api: TestApi;
  let fake: StripeFake;

  beforeAll(async () => {
    fake = await startStripeFake({ clock });
    api = await startPaymentsApi({ clock, stripe: fake });
  });
  afterAll(async () => {
    await api?.close();
    await fake?.close();
  });

  it('a lesson moved five days later is authorized again at its new T−24h, the old hold released, and captured with the new one', async () => {
    await truncateAll(api.database);
    const lesson = await bookPaidLesson(api, { startsAt: START, days: DAYS, stripe: fake });
    const { bookingId } = lesson;
    clock.set('2027-03-03T15:00:00Z');
    await sweep(api, 'payments.authorization-sweep');
    let money = await moneyOf(api, bookingId);
    const firstIntent = money.payment.paymentIntentId!;
    expect(money.payment.authorizationExpiresAt).toEqual(new Date('2027-03-08T09:00:00Z')); // now + 4d18h, read from the charge

    // exactly 24 h before: the free window; the lesson moves to Tuesday 2027-03-09 15:00Z
    const moved = await api.request(`/api/v1/bookings/${bookingId}/reschedule`, {
      method: 'POST',
      json: { startsAt: '2027-03-09T15:00:00Z' },
      headers: lesson.studentHeaders,
    });
    expect(moved.status).toBe(200);
    money = await moneyOf(api, bookingId);
    expect(money.booking.paymentStatus).toBe('authorized');
    expect(money.payment.authorizeAt).toEqual(new Date('2027-03-08T15:00:00Z'));

    // the old hold would lapse before the capture at 2027-03-10T16:00Z: nothing happens until the new T−24h
    clock.set('2027-03-08T14:55:00Z');
    await sweep(api, 'payments.authorization-sweep');
    expect((await moneyOf(api, bookingId)).payment.paymentIntentId).toBe(firstIntent);
    clock.set('2027-03-08T15:00:00Z');
    await sweep(api, 'payments.authorization-sweep');
    money = await moneyOf(api, bookingId);
    expect(money.payment.paymentIntentId).not.toBe(firstIntent);
    expect(money.payment.authorizationExpiresAt).toEqual(new Date('2027-03-13T09:00:00Z'));
    expect(fake.state.paymentIntents.get(firstIntent)).toMatchObject({ status: 'canceled' });

    clock.set('2027-03-10T16:15:00Z');
    await sweep(api, 'payments.capture-sweep');
    money = await moneyOf(api, bookingId);
    expect(money.booking).toMatchObject({ status: 'completed', paymentStatus: 'settled' });
    expect(fake.state.paymentIntents.get(money.payment.paymentIntentId!)).toMatchObject({ status: 'succeeded', amount_received: 13_440 });
    expect(money.operations.map((operation) => [operation.idempotencyKey, operation.status])).toEqual([
      [`authorize:${bookingId}:1`, 'succeeded'],
      [`authorize:${bookingId}:2`, 'succeeded'],
      [`cancel-authorization:${bookingId}:1`, 'succeeded'],
      [`capture:${bookingId}:1`, 'succeeded'],
      [`transfer:${bookingId}:1`, 'succeeded'],
    ]);
    // each call ran once at Stripe — the release found the old hold already lapsed (Stripe cancels it at capture_before)
    expect(money.operations.map((operation) => fake.executionsFor(operation.idempotencyKey))).toEqual([1, 1, 0, 1, 1]);
    expect(fake.callsFor(`cancel-authorization:${bookingId}:1`)).toBe(1);
  });
});
