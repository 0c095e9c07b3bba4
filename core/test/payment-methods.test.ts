import { truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { idempotencyKey } from '../src/payments/idempotency-keys.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows } from './support/auth.ts';
import { actingUser, createBookableInstructor, postBooking } from './support/bookings.ts';
import { saveTestCard } from './support/payments.ts';

const NOW = '2027-03-02T15:00:00Z';
const clock = fixedClock(NOW);
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({
    clock,
    env: { RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' }, booking: { mode: 'off' }, payment: { mode: 'off' } }) },
  });
});
afterAll(async () => {
  await api?.close();
});
beforeEach(async () => {
  clock.set(NOW);
  await truncateAll(api.database);
});

const post = (path: string, headers: Record<string, string>, json: unknown = {}) => api.request(path, { method: 'POST', headers, json });

describe('saving cards (offline provider)', () => {
  it('saves a test card: the first one is the default, labelled offline, audited, with every provider call recorded', async () => {
    const student = await actingUser(api);
    const { status, body } = await post('/api/v1/payments/methods', student.headers, { paymentMethodId: 'pm_offline_visa' });
    expect(status).toBe(201);
    expect(body).toMatchObject({ brand: 'visa', last4: '4242', expMonth: 12, isDefault: true, provider: 'offline', offline: true });

    const list = await api.request('/api/v1/payments/methods', { headers: student.headers });
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ provider: 'offline', offline: true, items: [{ id: body.id, isDefault: true }] });

    const customer = await api.database.db
      .selectFrom('paymentCustomers')
      .selectAll()
      .where('userId', '=', student.userId)
      .executeTakeFirstOrThrow();
    expect(customer).toMatchObject({ provider: 'offline', customerId: expect.stringMatching(/^cus_offline_/) });
    const operations = await api.database.db
      .selectFrom('paymentOperations')
      .select(['purpose', 'status', 'userId'])
      .orderBy('createdAt')
      .orderBy('id')
      .execute();
    expect(operations.map((operation) => [operation.purpose, operation.status])).toEqual([
      ['customer', 'succeeded'],
      ['setup-intent', 'succeeded'],
      ['setup-intent-confirm', 'succeeded'],
    ]);
    const [audit] = await auditRows(api.database, 'payment_method.add');
    expect(audit).toMatchObject({ actorId: student.userId, resourceId: body.id, outcome: 'success' });
    // the saved card is the student's own card at the provider, and pays
    const row = await api.database.db.selectFrom('paymentMethods').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(row.providerPaymentMethodId).toMatch(/^pm_offline_visa_/);
    expect(row.cardFingerprint).toMatch(/^fp_offline_/);
    const result = await api.deps.payments.authorize(
      {
        amountCents: 5_000,
        customerId: customer.customerId,
        paymentMethodId: row.providerPaymentMethodId,
        description: 'Lesson',
        metadata: {},
      },
      idempotencyKey('authorize', 'b1'),
    );
    expect(result.status).toBe('authorized');
  });

  it('a double click (same Idempotency-Key) saves one card; a second card is not the default until chosen', async () => {
    const student = await actingUser(api);
    const headers = { ...student.headers, 'idempotency-key': 'save-card-1' };
    const first = await post('/api/v1/payments/methods', headers, { paymentMethodId: 'pm_offline_visa' });
    const second = await post('/api/v1/payments/methods', headers, { paymentMethodId: 'pm_offline_visa' });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body).toEqual(first.body);
    expect(await auditRows(api.database, 'payment_method.add')).toHaveLength(1);

    const other = await saveTestCard(api, student.headers, 'pm_offline_mastercard');
    expect(other).toMatchObject({ isDefault: false, last4: '4444' });
    const chosen = await post(`/api/v1/payments/methods/${other.id}/default`, student.headers);
    expect(chosen.status).toBe(200);
    expect(chosen.body).toMatchObject({ id: other.id, isDefault: true });
    const list = await api.request('/api/v1/payments/methods', { headers: student.headers });
    expect(list.body.items.map((card: { id: string; isDefault: boolean }) => [card.id, card.isDefault])).toEqual([
      [other.id, true],
      [first.body.id, false],
    ]);
    expect(await auditRows(api.database, 'payment_method.set_default')).toHaveLength(1);
  });

  it('saves through a SetupIntent the browser confirmed; refuses it before confirmation and for another student', async () => {
    const student = await actingUser(api);
    const setup = await post('/api/v1/payments/methods/setup-intent', student.headers);
    expect(setup.status).toBe(201);
    expect(setup.body).toMatchObject({
      provider: 'offline',
      offline: true,
      status: 'requires_payment_method',
      testCards: expect.arrayContaining(['pm_offline_visa']),
    });
    expect(setup.body.clientSecret).toContain('_secret_');

    const early = await post('/api/v1/payments/methods', student.headers, { setupIntentId: setup.body.setupIntentId });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'conflict', field: 'setupIntentId' });

    // what Stripe.js does in the browser
    await api.deps.payments.confirmSetupIntent(
      { setupIntentId: setup.body.setupIntentId, paymentMethodId: 'pm_offline_visa' },
      'browser-confirm-1',
    );

    const stranger = await actingUser(api);
    const stolen = await post('/api/v1/payments/methods', stranger.headers, { setupIntentId: setup.body.setupIntentId });
    expect(stolen.status).toBe(404);

    const saved = await post('/api/v1/payments/methods', student.headers, { setupIntentId: setup.body.setupIntentId });
    expect(saved.status).toBe(201);
    expect(saved.body).toMatchObject({ brand: 'visa', isDefault: true });
    // the same setup intent again answers the same card
    const again = await post('/api/v1/payments/methods', student.headers, { setupIntentId: setup.body.setupIntentId });
    expect(again.body.id).toBe(saved.body.id);
    // the next card gets a new setup intent
    const next = await post('/api/v1/payments/methods/setup-intent', student.headers);
    expect(next.body.setupIntentId).not.toBe(setup.body.setupIntentId);
    expect(await auditRows(api.database, 'payment_method.setup_intent')).toHaveLength(2);
  });

  it('a card declined while saving answers 402 card_declined and saves nothing', async () => {
    const student = await actingUser(api);
    const { status, body } = await post('/api/v1/payments/methods', student.headers, { paymentMethodId: 'pm_offline_setup_declined' });
    expect(status).toBe(402);
    expect(body).toMatchObject({ code: 'card_declined', field: 'paymentMethodId' });
    expect((await api.request('/api/v1/payments/methods', { headers: student.headers })).body.items).toEqual([]);
    const unknown = await post('/api/v1/payments/methods', student.headers, { paymentMethodId: 'pm_nonsense' });
    expect(unknown.status).toBe(422);
  });

  it('validates the body: exactly one of setupIntentId and paymentMethodId, no extra fields', async () => {
    const student = await actingUser(api);
    for (const json of [
      {},
      { setupIntentId: 'seti_1', paymentMethodId: 'pm_offline_visa' },
      { paymentMethodId: 'pm_offline_visa', extra: 1 },
      { paymentMethodId: 'tok_visa' },
    ]) {
      const { status } = await post('/api/v1/payments/methods', student.headers, json);
      expect(status, JSON.stringify(json)).toBe(422);
    }
  });
});

describe('removing cards', () => {
  it('detaches the card at the provider, hides it and makes the newest remaining card the default', async () => {
    const student = await actingUser(api);
    const first = await saveTestCard(api, student.headers);
    const second = await saveTestCard(api, student.headers, 'pm_offline_mastercard');
    const { status } = await api.request(`/api/v1/payments/methods/${first.id}`, { method: 'DELETE', headers: student.headers });
    expect(status).toBe(204);
    const list = await api.request('/api/v1/payments/methods', { headers: student.headers });
    expect(list.body.items).toMatchObject([{ id: second.id, isDefault: true }]);
    expect((await api.deps.payments.retrievePaymentMethod(first.providerPaymentMethodId)).customerId).toBeNull();
    const [audit] = await auditRows(api.database, 'payment_method.remove');
    expect(audit).toMatchObject({ resourceId: first.id, actorId: student.userId });
    // removing again: not found
    expect((await api.request(`/api/v1/payments/methods/${first.id}`, { method: 'DELETE', headers: student.headers })).status).toBe(404);
  });

  it('refuses to remove a card that pays for a lesson not yet settled', async () => {
    const student = await actingUser(api);
    const card = await saveTestCard(api, student.headers);
    const instructor = await createBookableInstructor(api, { days: ['2027-03-10'] });
    const booking = await postBooking(api, student.headers, {
      instructorId: instructor.instructorId,
      serviceId: instructor.serviceId,
      startsAt: '2027-03-10T15:00:00Z',
      durationMinutes: 60,
      locationType: 'online',
    });
    expect(booking.status).toBe(201);
    await api.database.db
      .insertInto('bookingPayments')
      .values({
        bookingId: booking.body.id,
        provider: 'offline',
        cardAmountCents: 10_080,
        paymentMethodId: card.id,
        authorizeAt: new Date('2027-03-09T15:00:00Z'),
      })
      .onConflict((conflict) => conflict.column('bookingId').doUpdateSet({ paymentMethodId: card.id }))
      .execute();
    const { status, body } = await api.request(`/api/v1/payments/methods/${card.id}`, { method: 'DELETE', headers: student.headers });
    expect(status).toBe(409);
    expect(body.code).toBe('in_use');
  });
});

describe('only your own cards', () => {
  it("another student's card is not found for default and delete; roles without payments:read:own get 403", async () => {
    const owner = await actingUser(api);
    const card = await saveTestCard(api, owner.headers);
    const stranger = await actingUser(api);
    expect((await post(`/api/v1/payments/methods/${card.id}/default`, stranger.headers)).status).toBe(404);
    expect((await api.request(`/api/v1/payments/methods/${card.id}`, { method: 'DELETE', headers: stranger.headers })).status).toBe(404);
    expect((await api.request('/api/v1/payments/methods', { headers: stranger.headers })).body.items).toEqual([]);
    const instructor = await actingUser(api, 'instructor');
    expect((await api.request('/api/v1/payments/methods', { headers: instructor.headers })).status).toBe(403);
    expect((await post('/api/v1/payments/methods/setup-intent', instructor.headers)).status).toBe(403);
    expect((await api.request('/api/v1/payments/methods')).status).toBe(401);
  });
});
