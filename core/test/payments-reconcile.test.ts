import { truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCoreHandlers } from '../src/jobs/handlers.ts';
import type { JobContext } from '../src/jobs/start-worker.ts';
import { idempotencyKey } from '../src/payments/idempotency-keys.ts';
import type { ReconcileSummary } from '../src/payments/reconcile/index.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows } from './support/auth.ts';
import { actingUser, createBookableInstructor, postBooking } from './support/bookings.ts';
import { silentLogger } from './support/jobs.ts';
import { startStripeFake, type StripeFake } from './support/stripe-fake.ts';

const NOW = '2027-03-02T15:00:00Z';
const DAY = '2027-03-10';
const clock = fixedClock(NOW);
const NO_LIMITS = { RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' }, booking: { mode: 'off' }, payment: { mode: 'off' } }) };
let fake: StripeFake;
let api: TestApi;
let offline: TestApi;

beforeAll(async () => {
  fake = await startStripeFake({ clock });
  api = await startTestApi({ clock, env: { ...NO_LIMITS, ...fake.env } });
  offline = await startTestApi({ clock, env: NO_LIMITS });
});
afterAll(async () => {
  await offline?.close();
  await api?.close();
  await fake?.close();
});
beforeEach(async () => {
  clock.set(NOW);
  fake.reset();
  await truncateAll(api.database);
  await truncateAll(offline.database);
});

// Open hours are 09:00–21:00 New York time (14:00Z–02:00Z): one lesson per hour from 14:00Z.
let hour = 13;

/** A confirmed booking whose authorization we recorded, as checkout leaves it. */
async function authorizedBooking(target: TestApi, card: string) {
  const student = await actingUser(target);
  const saved = await target.request('/api/v1/payments/methods', {
    method: 'POST',
    headers: student.headers,
    json: { paymentMethodId: card },
  });
  expect(saved.status).toBe(201);
  const teacher = await createBookableInstructor(target, { days: [DAY] });
  hour = hour >= 23 ? 14 : hour + 1;
  const booking = await postBooking(target, student.headers, {
    instructorId: teacher.instructorId,
    serviceId: teacher.serviceId,
    startsAt: `${DAY}T${String(hour).padStart(2, '0')}:00:00Z`,
    durationMinutes: 60,
    locationType: 'online',
  });
  expect(booking.status).toBe(201);
  const bookingId: string = booking.body.id;
  const cardAmountCents: number = booking.body.price.cardAmountCents;
  const db = target.database.db;
  const { customerId } = await db
    .selectFrom('paymentCustomers')
    .select('customerId')
    .where('userId', '=', student.userId)
    .executeTakeFirstOrThrow();
  const method = await db
    .selectFrom('paymentMethods')
    .select(['id', 'providerPaymentMethodId'])
    .where('id', '=', saved.body.id)
    .executeTakeFirstOrThrow();
  const auth = await target.deps.payments.authorize(
    {
      amountCents: cardAmountCents,
      customerId,
      paymentMethodId: method.providerPaymentMethodId,
      description: 'Lesson',
      metadata: { bookingId, purpose: 'lesson' },
    },
    idempotencyKey('authorize', bookingId),
  );
  if (auth.status !== 'authorized') throw new Error('authorization failed');
  await db.updateTable('bookings').set({ status: 'confirmed', paymentStatus: 'authorized' }).where('id', '=', bookingId).execute();
  const payment = {
    provider: target.deps.payments.name,
    cardAmountCents,
    paymentMethodId: method.id,
    customerId,
    authorizeAt: new Date(NOW),
    paymentIntentId: auth.paymentIntentId,
    chargeId: auth.chargeId,
    authorizedAt: new Date(NOW),
    authorizationExpiresAt: auth.captureBefore,
  };
  await db
    .insertInto('bookingPayments')
    .values({ bookingId, ...payment })
    .onConflict((conflict) => conflict.column('bookingId').doUpdateSet(payment))
    .execute();
  return { bookingId, paymentIntentId: auth.paymentIntentId, cardAmountCents };
}

async function reconcile(target: TestApi): Promise<ReconcileSummary> {
  const handler = createCoreHandlers({ payments: target.deps.payments })['payments.reconcile-stripe']!;
  return (await handler(
    target.database.db,
    { schedule: 'payments-reconcile', slot: clock.now().toISOString() } as never,
    {
      clock,
      logger: silentLogger,
    } as unknown as JobContext,
  )) as unknown as ReconcileSummary;
}

async function openKinds(target: TestApi, bookingId: string): Promise<string[]> {
  const rows = await target.database.db
    .selectFrom('paymentMismatches')
    .select('kind')
    .where('bookingId', '=', bookingId)
    .where('resolvedAt', 'is', null)
    .orderBy('kind')
    .execute();
  return rows.map((row) => row.kind);
}

describe('payments.reconcile-stripe against the Stripe fake', () => {
  it('finds nothing when we agree with Stripe, flags what Stripe did behind our back, and resolves it once we agree again', async () => {
    const agreed = await authorizedBooking(api, 'pm_card_visa');
    const captured = await authorizedBooking(api, 'pm_card_visa');
    const released = await authorizedBooking(api, 'pm_card_visa');
    expect(await reconcile(api)).toMatchObject({ checked: 3, open: 0, opened: 0 });

    // Stripe captured one and released another without our records knowing
    await api.deps.payments.capture(
      { paymentIntentId: captured.paymentIntentId, amountCents: captured.cardAmountCents },
      idempotencyKey('capture', captured.bookingId),
    );
    await api.deps.payments.cancelAuthorization(
      { paymentIntentId: released.paymentIntentId },
      idempotencyKey('cancel-authorization', released.bookingId),
    );
    const first = await reconcile(api);
    expect(first).toMatchObject({ checked: 3, opened: 2, open: 2 });
    expect(await openKinds(api, agreed.bookingId)).toEqual([]);
    expect(await openKinds(api, captured.bookingId)).toEqual(['captured_not_recorded']);
    expect(await openKinds(api, released.bookingId)).toEqual(['status_mismatch']);
    const mismatch = await api.database.db
      .selectFrom('paymentMismatches')
      .selectAll()
      .where('bookingId', '=', captured.bookingId)
      .executeTakeFirstOrThrow();
    expect(mismatch.theirs).toMatchObject({ status: 'succeeded', amountReceivedCents: captured.cardAmountCents });
    expect(mismatch.ours).toMatchObject({ capturedAt: null, paymentStatus: 'authorized' });

    // a second run keeps one open row per booking and kind, seen again later
    clock.advance(3_600_000);
    expect(await reconcile(api)).toMatchObject({ opened: 0, open: 2 });
    const seenAgain = await api.database.db
      .selectFrom('paymentMismatches')
      .selectAll()
      .where('bookingId', '=', captured.bookingId)
      .execute();
    expect(seenAgain).toHaveLength(1);
    expect(seenAgain[0]!.lastSeenAt.toISOString()).toBe('2027-03-02T16:00:00.000Z');

    // our records catch up (as the webhook would make them): the mismatch resolves itself
    await api.database.db
      .updateTable('bookingPayments')
      .set({ capturedAt: clock.now(), capturedCents: captured.cardAmountCents })
      .where('bookingId', '=', captured.bookingId)
      .execute();
    expect(await reconcile(api)).toMatchObject({ resolved: 1, open: 1 });
    const resolved = await api.database.db
      .selectFrom('paymentMismatches')
      .selectAll()
      .where('bookingId', '=', captured.bookingId)
      .executeTakeFirstOrThrow();
    expect(resolved).toMatchObject({ resolvedBy: 'reconciliation' });
    expect(resolved.resolvedAt?.toISOString()).toBe('2027-03-02T16:00:00.000Z');
  });

  it('flags amounts, refunds and PaymentIntents Stripe does not have; a Stripe outage skips instead of resolving', async () => {
    const amount = await authorizedBooking(api, 'pm_card_visa');
    await api.database.db
      .updateTable('bookingPayments')
      .set({ cardAmountCents: amount.cardAmountCents + 1 })
      .where('bookingId', '=', amount.bookingId)
      .execute();
    const refunded = await authorizedBooking(api, 'pm_card_visa');
    await api.deps.payments.capture(
      { paymentIntentId: refunded.paymentIntentId, amountCents: refunded.cardAmountCents },
      idempotencyKey('capture', refunded.bookingId),
    );
    await api.deps.payments.refund(
      { paymentIntentId: refunded.paymentIntentId, amountCents: 500 },
      idempotencyKey('refund', refunded.bookingId),
    );
    await api.database.db
      .updateTable('bookingPayments')
      .set({ capturedAt: clock.now(), capturedCents: refunded.cardAmountCents - 1 })
      .where('bookingId', '=', refunded.bookingId)
      .execute();
    const ghost = await authorizedBooking(api, 'pm_card_visa');
    await api.database.db
      .updateTable('bookingPayments')
      .set({ paymentIntentId: 'pi_we_made_up' })
      .where('bookingId', '=', ghost.bookingId)
      .execute();
    const nameless = await authorizedBooking(api, 'pm_card_visa');
    await api.database.db
      .updateTable('bookingPayments')
      .set({ paymentIntentId: null })
      .where('bookingId', '=', nameless.bookingId)
      .execute();

    expect(await reconcile(api)).toMatchObject({ checked: 4, skipped: 0 });
    expect(await openKinds(api, amount.bookingId)).toEqual(['amount_mismatch']);
    expect(await openKinds(api, refunded.bookingId)).toEqual(['captured_amount_mismatch', 'refund_mismatch']);
    expect(await openKinds(api, ghost.bookingId)).toEqual(['missing_at_provider']);
    expect(await openKinds(api, nameless.bookingId)).toEqual(['missing_at_provider']);

    // Stripe down: nothing is checked, nothing is resolved by mistake
    await api.database.db
      .updateTable('bookingPayments')
      .set({ cardAmountCents: amount.cardAmountCents })
      .where('bookingId', '=', amount.bookingId)
      .execute();
    fake.failNext(100, { kind: 'server_error', method: 'GET' });
    const outage = await reconcile(api);
    expect(outage).toMatchObject({ resolved: 0 });
    expect(outage.skipped).toBeGreaterThanOrEqual(3);
    expect(await openKinds(api, amount.bookingId)).toEqual(['amount_mismatch']);
  });
});

describe('payments.reconcile-stripe on the offline provider', () => {
  it('compares with the offline records in the same way', async () => {
    const booking = await authorizedBooking(offline, 'pm_offline_visa');
    expect(await reconcile(offline)).toMatchObject({ checked: 1, open: 0 });
    await offline.deps.payments.capture(
      { paymentIntentId: booking.paymentIntentId, amountCents: booking.cardAmountCents },
      idempotencyKey('capture', booking.bookingId),
    );
    expect(await reconcile(offline)).toMatchObject({ opened: 1 });
    expect(await openKinds(offline, booking.bookingId)).toEqual(['captured_not_recorded']);
  });
});

describe('admin mismatch endpoints', () => {
  it('lists open and resolved mismatches page by page, and resolves one with an audited note', async () => {
    const one = await authorizedBooking(api, 'pm_card_visa');
    const two = await authorizedBooking(api, 'pm_card_visa');
    for (const booking of [one, two]) {
      await api.deps.payments.capture(
        { paymentIntentId: booking.paymentIntentId, amountCents: booking.cardAmountCents },
        idempotencyKey('capture', booking.bookingId),
      );
    }
    await reconcile(api);
    const admin = await actingUser(api, 'admin');
    const firstPage = await api.request('/api/v1/admin/payments/mismatches?limit=1', { headers: admin.headers });
    expect(firstPage.status).toBe(200);
    expect(firstPage.body.items).toHaveLength(1);
    expect(firstPage.body.items[0]).toMatchObject({ kind: 'captured_not_recorded', resolvedAt: null });
    const secondPage = await api.request(`/api/v1/admin/payments/mismatches?limit=1&cursor=${firstPage.body.nextCursor}`, {
      headers: admin.headers,
    });
    expect(secondPage.body.items).toHaveLength(1);
    expect(secondPage.body.nextCursor).toBeNull();
    expect(new Set([firstPage.body.items[0].bookingId, secondPage.body.items[0].bookingId])).toEqual(
      new Set([one.bookingId, two.bookingId]),
    );

    const id: string = firstPage.body.items[0].id;
    const resolve = await api.request(`/api/v1/admin/payments/mismatches/${id}/resolve`, {
      method: 'POST',
      headers: admin.headers,
      json: { note: 'Captured by support in the Stripe dashboard; recorded by hand.' },
    });
    expect(resolve.status).toBe(200);
    expect(resolve.body).toMatchObject({
      id,
      resolvedBy: admin.userId,
      resolutionNote: 'Captured by support in the Stripe dashboard; recorded by hand.',
    });
    const [audit] = await auditRows(api.database, 'payment.mismatch_resolve');
    expect(audit).toMatchObject({
      actorId: admin.userId,
      resourceId: id,
      reason: 'Captured by support in the Stripe dashboard; recorded by hand.',
    });
    const again = await api.request(`/api/v1/admin/payments/mismatches/${id}/resolve`, {
      method: 'POST',
      headers: admin.headers,
      json: { note: 'again' },
    });
    expect(again.status).toBe(409);

    const open = await api.request('/api/v1/admin/payments/mismatches', { headers: admin.headers });
    expect(open.body.items.map((item: { id: string }) => item.id)).not.toContain(id);
    const closed = await api.request('/api/v1/admin/payments/mismatches?status=resolved', { headers: admin.headers });
    expect(closed.body.items.map((item: { id: string }) => item.id)).toEqual([id]);

    const student = await actingUser(api);
    expect((await api.request('/api/v1/admin/payments/mismatches', { headers: student.headers })).status).toBe(403);
    expect(
      (
        await api.request(`/api/v1/admin/payments/mismatches/${id}/resolve`, {
          method: 'POST',
          headers: student.headers,
          json: { note: 'nope' },
        })
      ).status,
    ).toBe(403);
    expect((await api.request('/api/v1/admin/payments/mismatches?status=maybe', { headers: admin.headers })).status).toBe(422);
  });
});
