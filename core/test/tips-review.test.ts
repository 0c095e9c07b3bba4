import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCoreHandlers } from '../src/jobs/handlers.ts';
import { type RunningWorker, startWorker } from '../src/jobs/start-worker.ts';
import { idempotencyKey } from '../src/payments/idempotency-keys.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { processTipPayment } from '../src/tips/index.ts';
import { confirmedBooking, DAY_MS } from './credits-helpers.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows } from './support/auth.ts';
import { actingUser, tokenHeaders } from './support/bookings.ts';
import { silentLogger, waitFor } from './support/jobs.ts';
import { saveTestCard } from './support/payments.ts';

const NOW = new Date('2031-07-01T12:00:00Z');
const clock = fixedClock(NOW);
let api: TestApi;
let worker: RunningWorker;

beforeAll(async () => {
  api = await startTestApi({
    clock,
    env: { RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' }, payment: { mode: 'off' } }) },
  });
  worker = await startTipWorker();
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
});

/** A real worker running only the tip job, with the API's payment provider and clock. */
function startTipWorker(): Promise<RunningWorker> {
  return startWorker(api.database.db, {
    queue: api.deps.jobs,
    handlers: { 'tips.process-payment': createCoreHandlers({ payments: api.deps.payments })['tips.process-payment']! },
    clock,
    logger: silentLogger,
    pollIntervalMs: 50,
    heartbeatIntervalMs: 1000,
    shutdownTimeoutMs: 5000,
  });
}

/** A student with a saved card and a lesson they completed two days ago with a payout-ready instructor. */
async function completedLesson(card: Parameters<typeof saveTestCard>[2] | null = 'pm_offline_visa', status = 'completed') {
  const student = await actingUser(api, 'student');
  if (card) await saveTestCard(api, student.headers, card);
  const bookingId = await confirmedBooking(api.database, student.userId, { status, startsAt: new Date(NOW.getTime() - 2 * DAY_MS) });
  const { instructorId } = await api.database.db
    .selectFrom('bookings')
    .select('instructorId')
    .where('id', '=', bookingId)
    .executeTakeFirstOrThrow();
  const { accountId } = await api.deps.payments.createConnectedAccount(
    { userId: instructorId, email: `${instructorId}@example.com` },
    `connected-account:${instructorId}:1`,
  );
  await api.database.db
    .updateTable('instructorProfiles')
    .set({ stripeAccountId: accountId, payoutsEnabled: true })
    .where('userId', '=', instructorId)
    .execute();
  return { student, bookingId, instructorId, accountId };
}

function review(headers: Record<string, string>, bookingId: string, json: unknown) {
  return api.request(`/api/v1/bookings/${bookingId}/review`, { method: 'POST', headers, json });
}

async function operations(tipId: string) {
  return api.database.db
    .selectFrom('paymentOperations')
    .select(['idempotencyKey', 'purpose', 'status', 'amountCents', 'providerObjectId', 'provider'])
    .where('idempotencyKey', 'like', `%:${tipId}:%`)
    .orderBy('createdAt')
    .execute();
}

describe('POST /api/v1/bookings/{id}/review with a tip', () => {
  it('saves the review, charges the tip to the saved card and transfers all of it to the instructor', async () => {
    const { student, bookingId, instructorId, accountId } = await completedLesson();
    const created = await review(student.headers, bookingId, { rating: 5, comment: 'Patient and clear.', tipCents: 1500 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      bookingId,
      rating: 5,
      comment: 'Patient and clear.',
      tip: { amountCents: 1500, status: 'pending', provider: 'offline', offline: true },
    });
    const tipId: string = created.body.tip.id;

    const done = await waitFor(
      async () => {
        const state = await api.request(`/api/v1/bookings/${bookingId}/review`, { headers: student.headers });
        return state.body.tip?.status === 'transferred' ? state.body : null;
      },
      { what: 'the tip to be transferred' },
    );
    expect(done.tip).toMatchObject({ status: 'transferred', chargedAt: NOW.toISOString(), transferredAt: NOW.toISOString() });

    expect(await operations(tipId)).toEqual([
      {
        idempotencyKey: `tip-charge:${tipId}:1`,
        purpose: 'tip-charge',
        status: 'succeeded',
        amountCents: 1500,
        providerObjectId: expect.stringMatching(/^pi_offline_/),
        provider: 'offline',
      },
      {
        idempotencyKey: `tip-transfer:${tipId}:1`,
        purpose: 'tip-transfer',
        status: 'succeeded',
        amountCents: 1500,
        providerObjectId: expect.stringMatching(/^tr_offline_/),
        provider: 'offline',
      },
    ]);
    const tip = await api.database.db.selectFrom('tips').selectAll().where('id', '=', tipId).executeTakeFirstOrThrow();
    const transfer = await api.database.db
      .selectFrom('offlinePaymentObjects')
      .selectAll()
      .where('id', '=', tip.transferId!)
      .executeTakeFirstOrThrow();
    expect(transfer).toMatchObject({ kind: 'transfer', amountCents: 1500, parentId: accountId });
    expect(tip).toMatchObject({ instructorId, status: 'transferred', chargeId: expect.stringMatching(/^ch_offline_/) });

    // the instructor sees the review and its tip too
    const asInstructor = await api.request(`/api/v1/bookings/${bookingId}/review`, {
      headers: tokenHeaders(api, instructorId, ['instructor']),
    });
    expect(asInstructor.body.tip.status).toBe('transferred');

    const actions = (await auditRows(api.database))
      .filter((row) => row.resourceId === tipId || row.resourceId === bookingId)
      .map((row) => row.action);
    expect(actions).toEqual(expect.arrayContaining(['review.create', 'tip.charge', 'tip.transfer']));
    const events = await api.database.db
      .selectFrom('bookingEvents')
      .select('type')
      .where('bookingId', '=', bookingId)
      .orderBy('id')
      .execute();
    expect(events.map((event) => event.type)).toEqual(['reviewed', 'tip_added', 'tip_charged', 'tip_transferred']);

    // Running the payment again (a duplicate delivery) moves no money.
    expect(await processTipPayment(api.database.db, tipId, { payments: api.deps.payments, clock })).toEqual({
      tipId,
      status: 'transferred',
    });
    expect(await operations(tipId)).toHaveLength(2);
  });

  it('a crash after the provider charged but before we recorded it is retried under the same key: charged once', async () => {
    const { student, bookingId } = await completedLesson();
    await worker.stop();
    const created = await review(student.headers, bookingId, { rating: 4, tipCents: 700 });
    const tipId: string = created.body.tip.id;
    const tip = await api.database.db
      .selectFrom('tips as t')
      .innerJoin('paymentMethods as m', 'm.id', 't.paymentMethodId')
      .select(['t.customerId', 'm.providerPaymentMethodId'])
      .where('t.id', '=', tipId)
      .executeTakeFirstOrThrow();
    // What the job sends, sent once by hand: the provider now holds a succeeded charge under the key.
    const key = idempotencyKey('tip-charge', tipId, 1);
    const first = await api.deps.payments.charge(
      {
        amountCents: 700,
        customerId: tip.customerId!,
        paymentMethodId: tip.providerPaymentMethodId,
        description: 'InstaInstru lesson tip',
        metadata: { purpose: 'tip', tipId, bookingId },
        transferGroup: `tip:${tipId}`,
      },
      key,
    );
    expect(first.status).toBe('captured');

    const outcome = await processTipPayment(api.database.db, tipId, { payments: api.deps.payments, clock });
    expect(outcome).toEqual({ tipId, status: 'transferred' });
    const row = await api.database.db.selectFrom('tips').selectAll().where('id', '=', tipId).executeTakeFirstOrThrow();
    expect(row.paymentIntentId).toBe(first.paymentIntentId);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from offline_payment_objects where kind = 'payment_intent' and data -> 'metadata' ->> 'tipId' = ${tipId}`.execute(
      api.database.db,
    );
    expect(rows[0]!.n).toBe(1);
    worker = await startTipWorker();
  });

  it('a declined tip fails on its own: the review stays', async () => {
    const { student, bookingId } = await completedLesson('pm_offline_declined');
    const created = await review(student.headers, bookingId, { rating: 3, tipCents: 500 });
    expect(created.status).toBe(201);
    const tipId: string = created.body.tip.id;
    const state = await waitFor(async () => {
      const current = await api.request(`/api/v1/bookings/${bookingId}/review`, { headers: student.headers });
      return current.body.tip?.status === 'failed' ? current.body : null;
    });
    expect(state).toMatchObject({ rating: 3, tip: { status: 'failed', failureCode: 'card_declined' } });
    expect(await operations(tipId)).toEqual([expect.objectContaining({ purpose: 'tip-charge', status: 'failed' })]);
    expect(await api.database.db.selectFrom('reviews').select('rating').where('bookingId', '=', bookingId).executeTakeFirst()).toEqual({
      rating: 3,
    });
  });

  it('a review without a tip needs no card and moves no money', async () => {
    const { student, bookingId } = await completedLesson(null);
    const created = await review(student.headers, bookingId, { rating: 4 });
    expect(created.status).toBe(201);
    expect(created.body.tip).toBeNull();
  });

  it('enforces the review rules: completed, yours, once, within 30 days, not a no-show, valid tip', async () => {
    const { student, bookingId, instructorId } = await completedLesson();
    const other = await actingUser(api, 'student');

    expect((await review(other.headers, bookingId, { rating: 5 })).status).toBe(404);
    const byInstructor = await review(tokenHeaders(api, instructorId, ['instructor']), bookingId, { rating: 5 });
    expect(byInstructor.status).toBe(403);
    expect((await review(student.headers, bookingId, { rating: 6 })).status).toBe(422);
    expect((await review(student.headers, bookingId, { rating: 5, tipCents: 50 })).body).toMatchObject({
      code: 'validation_error',
      field: 'tipCents',
    });
    expect((await review(student.headers, bookingId, { rating: 5, tipCents: 500, currency: 'eur' })).body).toMatchObject({
      code: 'validation_error',
      field: 'currency',
    });
    expect((await review(student.headers, bookingId, { rating: 5, tipCents: 1.5 })).status).toBe(422);

    expect((await review(student.headers, bookingId, { rating: 5 })).status).toBe(201);
    const twice = await review(student.headers, bookingId, { rating: 1 });
    expect(twice.status).toBe(409);
    expect(twice.body.detail).toContain('already reviewed');

    const upcoming = await completedLesson('pm_offline_visa', 'confirmed');
    expect((await review(upcoming.student.headers, upcoming.bookingId, { rating: 5 })).status).toBe(409);
    const noShow = await completedLesson('pm_offline_visa', 'no_show');
    const noShowAnswer = await review(noShow.student.headers, noShow.bookingId, { rating: 1 });
    expect(noShowAnswer.status).toBe(409);
    expect(noShowAnswer.body.detail).toContain('no-show');

    const old = await completedLesson();
    await api.database.db
      .updateTable('bookings')
      .set({ startsAt: new Date(NOW.getTime() - 31 * DAY_MS - 3_600_000), endsAt: new Date(NOW.getTime() - 31 * DAY_MS) })
      .where('id', '=', old.bookingId)
      .execute();
    const late = await review(old.student.headers, old.bookingId, { rating: 5 });
    expect(late.status).toBe(409);
    expect(late.body.detail).toContain('30 days');

    // A tip without a saved card is refused before anything is saved.
    const cardless = await completedLesson(null);
    const noCard = await review(cardless.student.headers, cardless.bookingId, { rating: 5, tipCents: 500 });
    expect(noCard.status).toBe(422);
    expect(noCard.body).toMatchObject({ field: 'tipCents' });
    expect(await api.database.db.selectFrom('reviews').select('id').where('bookingId', '=', cardless.bookingId).execute()).toEqual([]);
  });
});
