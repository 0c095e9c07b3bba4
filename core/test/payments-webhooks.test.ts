import { truncateAll } from '@instainstru/db/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCoreHandlers } from '../src/jobs/handlers.ts';
import type { JobContext } from '../src/jobs/start-worker.ts';
import { idempotencyKey } from '../src/payments/idempotency-keys.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows } from './support/auth.ts';
import { actingUser, createBookableInstructor, postBooking } from './support/bookings.ts';
import { silentLogger } from './support/jobs.ts';
import { startStripeFake, type SignedWebhook, type StripeFake } from './support/stripe-fake.ts';

const NOW = '2027-03-02T15:00:00Z';
const DAY = '2027-03-10';
const clock = fixedClock(NOW);
const NO_LIMITS = { RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' }, booking: { mode: 'off' }, payment: { mode: 'off' } }) };
let fake: StripeFake;
let api: TestApi;
/** A second API process on the same database that dies between recording an event and applying it. */
let crashing: TestApi;

beforeAll(async () => {
  fake = await startStripeFake({ clock });
  api = await startTestApi({ clock, env: { ...NO_LIMITS, ...fake.env } });
  crashing = await startTestApi({ clock, database: api.database, env: { ...NO_LIMITS, ...fake.env, FAULT_STEPS: 'webhook.after-record' } });
});
afterAll(async () => {
  await crashing?.close();
  await api?.close();
  await fake?.close();
});
beforeEach(async () => {
  clock.set(NOW);
  fake.reset();
  await truncateAll(api.database);
});

function deliver(target: TestApi, webhook: Pick<SignedWebhook, 'body' | 'headers'>) {
  return target.request('/api/v1/webhooks/stripe', { method: 'POST', body: webhook.body, headers: webhook.headers });
}

/**
 * A confirmed booking whose authorization we recorded (as checkout does), a student card and an
 * instructor payout account — then Stripe-side changes our code never recorded: capture, a
 * partial refund, finished onboarding, a card saved in the browser, and a dispute.
 */
async function scenario() {
  const student = await actingUser(api);
  const saved = await api.request('/api/v1/payments/methods', {
    method: 'POST',
    headers: student.headers,
    json: { paymentMethodId: 'pm_card_visa' },
  });
  expect(saved.status).toBe(201);
  const teacher = await createBookableInstructor(api, { days: [DAY] });
  const booking = await postBooking(api, student.headers, {
    instructorId: teacher.instructorId,
    serviceId: teacher.serviceId,
    startsAt: `${DAY}T15:00:00Z`,
    durationMinutes: 60,
    locationType: 'online',
  });
  expect(booking.status).toBe(201);
  const bookingId: string = booking.body.id;
  const cardAmountCents: number = booking.body.price.cardAmountCents;
  const db = api.database.db;
  const { customerId } = await db
    .selectFrom('paymentCustomers')
    .select('customerId')
    .where('userId', '=', student.userId)
    .executeTakeFirstOrThrow();
  const card = await db
    .selectFrom('paymentMethods')
    .select(['id', 'providerPaymentMethodId'])
    .where('id', '=', saved.body.id)
    .executeTakeFirstOrThrow();
  const auth = await api.deps.payments.authorize(
    {
      amountCents: cardAmountCents,
      customerId,
      paymentMethodId: card.providerPaymentMethodId,
      description: 'Lesson',
      metadata: { bookingId, purpose: 'lesson' },
      transferGroup: `booking:${bookingId}`,
    },
    idempotencyKey('authorize', bookingId),
  );
  if (auth.status !== 'authorized') throw new Error('authorization failed');
  await db.updateTable('bookings').set({ status: 'confirmed', paymentStatus: 'authorized' }).where('id', '=', bookingId).execute();
  const payment = {
    provider: 'stripe',
    cardAmountCents,
    paymentMethodId: card.id,
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
  const onboarding = await api.request('/api/v1/payouts/onboarding-link', { method: 'POST', headers: teacher.headers, json: {} });
  expect(onboarding.status).toBe(201);
  const accountId: string = onboarding.body.account.accountId;

  // what happens at Stripe while our records stay as they are
  await api.deps.payments.capture(
    { paymentIntentId: auth.paymentIntentId, amountCents: cardAmountCents },
    idempotencyKey('capture', bookingId),
  );
  await api.deps.payments.refund({ paymentIntentId: auth.paymentIntentId, amountCents: 1_000 }, idempotencyKey('refund', bookingId));
  fake.completeOnboarding(accountId);
  const setup = await api.request('/api/v1/payments/methods/setup-intent', { method: 'POST', headers: student.headers });
  await api.deps.payments.confirmSetupIntent(
    { setupIntentId: setup.body.setupIntentId, paymentMethodId: 'pm_card_mastercard' },
    'browser-confirm',
  );
  const dispute = fake.createDispute(auth.chargeId!);
  return {
    bookingId,
    studentId: student.userId,
    instructorId: teacher.instructorId,
    paymentIntentId: auth.paymentIntentId,
    chargeId: auth.chargeId,
    cardAmountCents,
    disputeId: dispute.id,
  };
}

type Scenario = Awaited<ReturnType<typeof scenario>>;

/** What a user (or admin) would see, with provider ids replaced by whether they are the right ones. */
async function finalState(ids: Scenario) {
  const db = api.database.db;
  const booking = await db
    .selectFrom('bookings')
    .select(['status', 'paymentStatus'])
    .where('id', '=', ids.bookingId)
    .executeTakeFirstOrThrow();
  const payment = await db.selectFrom('bookingPayments').selectAll().where('bookingId', '=', ids.bookingId).executeTakeFirstOrThrow();
  const profile = await db
    .selectFrom('instructorProfiles')
    .select(['payoutsEnabled', 'payoutDetailsSubmitted'])
    .where('userId', '=', ids.instructorId)
    .executeTakeFirstOrThrow();
  const cards = await db
    .selectFrom('paymentMethods')
    .select(['brand', 'isDefault'])
    .where('userId', '=', ids.studentId)
    .orderBy('brand')
    .execute();
  const unprocessed = await db.selectFrom('webhookEvents').select('id').where('processedAt', 'is', null).execute();
  return {
    booking,
    payment: {
      samePaymentIntent: payment.paymentIntentId === ids.paymentIntentId,
      sameCharge: payment.chargeId === ids.chargeId,
      captured: payment.capturedAt !== null,
      capturedCents: payment.capturedCents,
      refundedCents: payment.refundedCents,
      manualReviewReason: payment.manualReviewReason?.replace(ids.disputeId, 'dp_X'),
    },
    profile,
    cards,
    unprocessed: unprocessed.length,
    disputeAudits: (await auditRows(api.database, 'payment.dispute_opened')).length,
    accountAudits: (await auditRows(api.database, 'payout_account.updated')).length,
    cardAudits: (await auditRows(api.database, 'payment_method.add')).length,
  };
}

function shuffle<T>(items: T[], seed: number): T[] {
  const result = [...items];
  let state = seed;
  for (let index = result.length - 1; index > 0; index -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const other = state % (index + 1);
    [result[index], result[other]] = [result[other]!, result[index]!];
  }
  return result;
}

describe('POST /api/v1/webhooks/stripe: signatures', () => {
  it('accepts a correctly signed event and refuses a wrong secret, a body changed after signing, a missing header and a signature older than 300 s', async () => {
    const object = { id: 'pi_unknown', object: 'payment_intent', status: 'succeeded' };
    const good = fake.signedEvent('payment_intent.succeeded', object as never);
    const wrongSecret = fake.sign(good.event, { secret: 'whsec_someone_else' });
    const tampered = { ...good, body: good.body.replace('"succeeded"', '"canceled"') };
    const stale = fake.signedEvent('payment_intent.succeeded', object as never, {
      timestamp: Math.floor(clock.now().getTime() / 1000) - 301,
    });
    const justInTime = fake.signedEvent('payment_intent.succeeded', object as never, {
      timestamp: Math.floor(clock.now().getTime() / 1000) - 299,
    });
    for (const bad of [wrongSecret, tampered, stale]) {
      const { status, body } = await deliver(api, bad);
      expect(status).toBe(400);
      expect(body).toMatchObject({ code: 'invalid_signature', field: null });
    }
    const missing = await api.request('/api/v1/webhooks/stripe', {
      method: 'POST',
      body: good.body,
      headers: { 'content-type': 'application/json' },
    });
    expect(missing.status).toBe(400);
    expect(await api.database.db.selectFrom('webhookEvents').select('id').execute()).toEqual([]);
    // Stripe does not know the intent (404 on the re-read): recorded and answered, nothing applied
    const unknown = await deliver(api, good);
    expect(unknown.status).toBe(200);
    expect(unknown.body).toMatchObject({ eventId: good.event.id, outcome: 'unmatched', duplicate: false });
    expect((await deliver(api, justInTime)).status).toBe(200);
    const recorded = await api.database.db.selectFrom('webhookEvents').selectAll().execute();
    expect(recorded).toHaveLength(2);
    expect(recorded.every((row) => row.processedAt !== null && row.outcome === 'unmatched')).toBe(true);
    expect(fake.countFor('GET', '/v1/payment_intents/pi_unknown')).toBe(2);
  });

  it('records an unknown event type as ignored (200), and a second delivery is a duplicate', async () => {
    const webhook = fake.signedEvent('customer.tax_id.created', { id: 'txi_123', object: 'tax_id' } as never);
    const first = await deliver(api, webhook);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      received: true,
      eventId: webhook.event.id,
      type: 'customer.tax_id.created',
      duplicate: false,
      outcome: 'ignored',
    });
    const second = await deliver(api, webhook);
    expect(second.body).toMatchObject({ duplicate: true, outcome: 'ignored' });
    const row = await api.database.db.selectFrom('webhookEvents').selectAll().where('id', '=', webhook.event.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ type: 'customer.tax_id.created', objectId: 'txi_123', receiveCount: 2, outcome: 'ignored' });
    expect(row.processedAt).not.toBeNull();
  });

  it('refuses non-JSON bodies, and every event where no webhook secret is configured', async () => {
    const webhook = fake.signedEvent('customer.created', { id: 'cus_1', object: 'customer' } as never);
    const text = await api.request('/api/v1/webhooks/stripe', {
      method: 'POST',
      body: webhook.body,
      headers: { ...webhook.headers, 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    const unconfigured = await startTestApi({ clock, database: api.database, env: NO_LIMITS });
    try {
      const { status, body } = await deliver(unconfigured, webhook);
      expect(status).toBe(400);
      expect(body).toMatchObject({ code: 'invalid_signature', detail: expect.stringContaining('STRIPE_WEBHOOK_SECRET') });
    } finally {
      await unconfigured.close();
    }
  });
});

describe('POST /api/v1/webhooks/stripe: applying events (R7)', () => {
  it('each event replayed 3× concurrently in a shuffled stream leaves the same final state as the stream in order, applying each change once', async () => {
    const inOrderIds = await scenario();
    const inOrderEvents = [...fake.events];
    expect(inOrderEvents.map((event) => event.type)).toEqual(
      expect.arrayContaining([
        'payment_intent.succeeded',
        'charge.refunded',
        'account.updated',
        'setup_intent.succeeded',
        'charge.dispute.created',
      ]),
    );
    for (const event of inOrderEvents) {
      const { status } = await deliver(api, fake.sign(event));
      expect(status, event.type).toBe(200);
    }
    const inOrder = await finalState(inOrderIds);
    expect(inOrder).toEqual({
      booking: { status: 'confirmed', paymentStatus: 'manual_review' },
      payment: {
        samePaymentIntent: true,
        sameCharge: true,
        captured: true,
        capturedCents: inOrderIds.cardAmountCents,
        refundedCents: 1_000,
        manualReviewReason: 'dispute dp_X (fraudulent)',
      },
      profile: { payoutsEnabled: true, payoutDetailsSubmitted: true },
      cards: [
        { brand: 'mastercard', isDefault: false },
        { brand: 'visa', isDefault: true },
      ],
      unprocessed: 0,
      disputeAudits: 1,
      accountAudits: 1,
      cardAudits: 2,
    });

    // the same story again, delivered shuffled, every event three times at once
    await truncateAll(api.database);
    fake.reset();
    const shuffledIds = await scenario();
    const deliveries = shuffle(fake.events, 7).flatMap((event) => {
      const signed = fake.sign(event);
      return [signed, signed, signed];
    });
    const answers = await Promise.all(deliveries.map((webhook) => deliver(api, webhook)));
    expect(answers.map((answer) => answer.status).every((status) => status === 200)).toBe(true);
    expect(await finalState(shuffledIds)).toEqual(inOrder);
    const rows = await api.database.db.selectFrom('webhookEvents').select(['receiveCount', 'processedAt']).execute();
    expect(rows).toHaveLength(fake.events.length);
    expect(rows.every((row) => row.receiveCount === 3 && row.processedAt !== null)).toBe(true);
    // the capture and the refund were recorded by exactly one reconciliation
    const reconciled = await api.database.db
      .selectFrom('bookingEvents')
      .select(sql<string>`data::text`.as('data'))
      .where('bookingId', '=', shuffledIds.bookingId)
      .where('type', '=', 'payment_reconciled')
      .execute();
    expect(reconciled.filter((event) => event.data.includes('capture_recorded'))).toHaveLength(1);
    expect(reconciled.filter((event) => event.data.includes('refunds_recorded'))).toHaveLength(1);
  });

  it('a handler killed between recording and applying leaves the event unprocessed; the next delivery or the reconciliation sweep applies it', async () => {
    const ids = await scenario();
    const succeeded = fake.eventsFor(ids.paymentIntentId, ['payment_intent.succeeded'])[0]!;
    const refunded = fake.events.find((event) => event.type === 'charge.refunded')!;

    const killed = await deliver(crashing, fake.sign(succeeded));
    expect(killed.status).toBe(500);
    const recorded = await api.database.db.selectFrom('webhookEvents').selectAll().where('id', '=', succeeded.id).executeTakeFirstOrThrow();
    expect(recorded.processedAt).toBeNull();
    expect(
      (
        await api.database.db
          .selectFrom('bookingPayments')
          .select('capturedAt')
          .where('bookingId', '=', ids.bookingId)
          .executeTakeFirstOrThrow()
      ).capturedAt,
    ).toBeNull();

    const redelivered = await deliver(api, fake.sign(succeeded));
    expect(redelivered.body).toMatchObject({ duplicate: true, outcome: 'applied' });
    expect(
      (
        await api.database.db
          .selectFrom('bookingPayments')
          .select('capturedCents')
          .where('bookingId', '=', ids.bookingId)
          .executeTakeFirstOrThrow()
      ).capturedCents,
    ).toBe(ids.cardAmountCents);

    // killed again, and Stripe's retry never comes in time: the hourly sweep picks it up after 5 minutes
    await api.database.db.updateTable('bookingPayments').set({ refundedCents: 0 }).where('bookingId', '=', ids.bookingId).execute();
    expect((await deliver(crashing, fake.sign(refunded))).status).toBe(500);
    const handler = createCoreHandlers({ payments: api.deps.payments })['payments.reconcile-stripe']!;
    const context = { clock, logger: silentLogger } as unknown as JobContext;
    const early = (await handler(api.database.db, { schedule: 'reconcile', slot: NOW } as never, context)) as {
      webhookEventsReapplied: number;
    };
    expect(early.webhookEventsReapplied).toBe(0);
    clock.advance(6 * 60_000);
    const swept = (await handler(api.database.db, { schedule: 'reconcile', slot: NOW } as never, context)) as {
      webhookEventsReapplied: number;
    };
    expect(swept.webhookEventsReapplied).toBe(1);
    const row = await api.database.db.selectFrom('webhookEvents').selectAll().where('id', '=', refunded.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ outcome: 'applied', processingError: null });
    expect(
      (
        await api.database.db
          .selectFrom('bookingPayments')
          .select('refundedCents')
          .where('bookingId', '=', ids.bookingId)
          .executeTakeFirstOrThrow()
      ).refundedCents,
    ).toBe(1_000);
  });
});
