import { createTestDatabase, type TestDatabase, truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { idempotencyKey } from '../src/payments/idempotency-keys.ts';
import { type PaymentProvider, PaymentProviderError } from '../src/payments/provider.ts';
import { createOfflinePaymentProvider, OFFLINE_AUTHORIZATION_VALIDITY_MS } from '../src/payments/providers/index.ts';
import { fixedClock } from '../src/shared/clock.ts';

const NOW = '2027-03-02T15:00:00Z';
const clock = fixedClock(NOW);
let database: TestDatabase;
let provider: PaymentProvider;

beforeAll(async () => {
  database = await createTestDatabase();
  provider = createOfflinePaymentProvider(database.db, { clock });
});
afterAll(async () => {
  await database?.cleanup();
});
beforeEach(async () => {
  clock.set(NOW);
  await truncateAll(database);
});

const authorization = (paymentMethodId: string, amountCents = 13_441) => ({
  amountCents,
  customerId: 'cus_offline_test',
  paymentMethodId,
  description: 'Lesson',
  metadata: { bookingId: 'b1', purpose: 'authorize', booking_ref: 'snake_case_kept' },
  transferGroup: 'booking:b1',
});

async function rejection(promise: Promise<unknown>): Promise<PaymentProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PaymentProviderError);
  return error as PaymentProviderError;
}

async function objectCount(kind: string): Promise<number> {
  const rows = await database.db.selectFrom('offlinePaymentObjects').select('id').where('kind', '=', kind).execute();
  return rows.length;
}

async function authorized(amountCents = 13_441) {
  const result = await provider.authorize(authorization('pm_offline_visa', amountCents), idempotencyKey('authorize', 'b1'));
  if (result.status !== 'authorized') throw new Error(`expected an authorization, got ${result.status}`);
  return result;
}

describe('offline payment provider', () => {
  it('says it is offline', () => {
    expect(provider.name).toBe('offline');
    expect(provider.offline).toBe(true);
  });

  it('authorizes with capture_before = now + 7 days, and the intent reads back as requires_capture', async () => {
    const result = await authorized();
    expect(result).toMatchObject({
      status: 'authorized',
      amountCents: 13_441,
      paymentIntentId: expect.stringMatching(/^pi_offline_/),
      chargeId: expect.stringMatching(/^ch_offline_/),
    });
    expect(result.captureBefore?.toISOString()).toBe(new Date(Date.parse(NOW) + OFFLINE_AUTHORIZATION_VALIDITY_MS).toISOString());
    expect(result.captureBefore?.toISOString()).toBe('2027-03-09T15:00:00.000Z');
    const state = await provider.retrievePaymentIntent(result.paymentIntentId);
    expect(state).toMatchObject({
      status: 'requires_capture',
      amountCents: 13_441,
      amountCapturableCents: 13_441,
      amountReceivedCents: 0,
      metadata: { bookingId: 'b1', purpose: 'authorize', booking_ref: 'snake_case_kept' },
    });
  });

  it('answers the same key and parameters with the first answer, 20 times at once and in sequence, creating one intent', async () => {
    const key = idempotencyKey('authorize', 'b1');
    const concurrent = await Promise.all(Array.from({ length: 20 }, () => provider.authorize(authorization('pm_offline_visa'), key)));
    const sequential = [];
    for (let i = 0; i < 20; i += 1) sequential.push(await provider.authorize(authorization('pm_offline_visa'), key));
    const ids = new Set([...concurrent, ...sequential].map((result) => result.paymentIntentId));
    expect(ids.size).toBe(1);
    expect(await objectCount('payment_intent')).toBe(1);
    // replays carry real Dates, like the first answer
    const first = concurrent[0]!;
    const replay = sequential[19]!;
    expect(replay).toEqual(first);
  });

  it('refuses the same key with other parameters as a non-retryable idempotency_error', async () => {
    const key = idempotencyKey('authorize', 'b1');
    await provider.authorize(authorization('pm_offline_visa', 1_000), key);
    const error = await rejection(provider.authorize(authorization('pm_offline_visa', 2_000), key));
    expect(error.retryable).toBe(false);
    expect(error.options.code).toBe('idempotency_error');
    // also across operations: an authorization key reused for a refund
    const other = await provider.authorize(authorization('pm_offline_visa'), idempotencyKey('authorize', 'b2'));
    const crossed = await rejection(provider.refund({ paymentIntentId: other.paymentIntentId!, amountCents: 100 }, key));
    expect(crossed.options.code).toBe('idempotency_error');
    expect(await objectCount('payment_intent')).toBe(2);
  });

  it.each([
    ['pm_offline_declined', 'card_declined', false],
    ['pm_offline_insufficient_funds', 'insufficient_funds', false],
    ['pm_offline_requires_action', 'authentication_required', true],
  ])('%s declines as a result (%s), replayed for the same key', async (paymentMethodId, code, requiresAction) => {
    const key = idempotencyKey('authorize', 'b1');
    const result = await provider.authorize(authorization(paymentMethodId), key);
    expect(result).toMatchObject({ status: 'failed', code, requiresAction, paymentIntentId: expect.stringMatching(/^pi_offline_/) });
    expect(await provider.authorize(authorization(paymentMethodId), key)).toEqual(result);
    const state = await provider.retrievePaymentIntent(result.paymentIntentId!);
    expect(state).toMatchObject({ status: 'requires_payment_method', lastErrorCode: code, chargeId: null });
  });

  it('a payment method that is no offline test card fails as unusable, not as a crash', async () => {
    const result = await provider.authorize(authorization('pm_card_visa'), idempotencyKey('authorize', 'b1'));
    expect(result).toMatchObject({ status: 'failed', code: 'payment_method_unavailable', requiresAction: false });
  });

  it('captures once per key; a second capture with a new key is refused; amounts above the authorization are refused', async () => {
    const { paymentIntentId, chargeId } = await authorized();
    const tooMuch = await rejection(provider.capture({ paymentIntentId, amountCents: 13_442 }, idempotencyKey('capture', 'b1')));
    expect(tooMuch.retryable).toBe(false);
    const key = idempotencyKey('capture', 'b1', 2);
    const results = await Promise.all(Array.from({ length: 10 }, () => provider.capture({ paymentIntentId, amountCents: 13_000 }, key)));
    for (const result of results) expect(result).toEqual({ status: 'captured', paymentIntentId, chargeId, capturedCents: 13_000 });
    const state = await provider.retrievePaymentIntent(paymentIntentId);
    expect(state).toMatchObject({ status: 'succeeded', amountReceivedCents: 13_000, amountCapturableCents: 0, captureBefore: null });
    const again = await rejection(provider.capture({ paymentIntentId, amountCents: 13_000 }, idempotencyKey('capture', 'b1', 3)));
    expect(again.options.code).toBe('payment_intent_unexpected_state');
    const changed = await rejection(provider.capture({ paymentIntentId, amountCents: 12_000 }, key));
    expect(changed.options.code).toBe('idempotency_error');
  });

  it('a capture after capture_before fails with the authorization lost, and the intent is canceled', async () => {
    const { paymentIntentId } = await authorized();
    clock.advance(OFFLINE_AUTHORIZATION_VALIDITY_MS);
    const result = await provider.capture({ paymentIntentId, amountCents: 13_441 }, idempotencyKey('capture', 'b1'));
    expect(result).toMatchObject({ status: 'failed', code: 'charge_expired_for_capture', authorizationLost: true });
    expect((await provider.retrievePaymentIntent(paymentIntentId)).status).toBe('canceled');
  });

  it('pm_offline_capture_fails authorizes but every capture fails without losing the authorization', async () => {
    const result = await provider.authorize(authorization('pm_offline_capture_fails'), idempotencyKey('authorize', 'b1'));
    expect(result.status).toBe('authorized');
    const capture = await provider.capture(
      { paymentIntentId: result.paymentIntentId!, amountCents: 13_441 },
      idempotencyKey('capture', 'b1'),
    );
    expect(capture).toMatchObject({ status: 'failed', code: 'card_declined', authorizationLost: false });
    const retry = await provider.capture(
      { paymentIntentId: result.paymentIntentId!, amountCents: 13_441 },
      idempotencyKey('capture', 'b1', 2),
    );
    expect(retry.status).toBe('failed');
    expect((await provider.retrievePaymentIntent(result.paymentIntentId!)).status).toBe('requires_capture');
  });

  it('cancels an authorization; cancelling again succeeds; a captured intent cannot be cancelled', async () => {
    const { paymentIntentId } = await authorized();
    expect(await provider.cancelAuthorization({ paymentIntentId }, idempotencyKey('cancel-authorization', 'b1'))).toEqual({
      status: 'canceled',
    });
    expect(await provider.cancelAuthorization({ paymentIntentId }, idempotencyKey('cancel-authorization', 'b1', 2))).toEqual({
      status: 'canceled',
    });
    const capture = await provider.capture({ paymentIntentId, amountCents: 100 }, idempotencyKey('capture', 'b1'));
    expect(capture).toMatchObject({ status: 'failed', authorizationLost: true });

    const charged = await provider.charge(authorization('pm_offline_visa', 500), idempotencyKey('tip-charge', 'b2'));
    expect(charged).toMatchObject({ status: 'captured', captureBefore: null });
    const refused = await rejection(
      provider.cancelAuthorization({ paymentIntentId: charged.paymentIntentId! }, idempotencyKey('cancel-authorization', 'b2')),
    );
    expect(refused.retryable).toBe(false);
  });

  it('refunds up to what was captured, once per key', async () => {
    const { paymentIntentId } = await authorized();
    await provider.capture({ paymentIntentId, amountCents: 10_000 }, idempotencyKey('capture', 'b1'));
    const key = idempotencyKey('refund', 'b1');
    const refunds = await Promise.all(Array.from({ length: 5 }, () => provider.refund({ paymentIntentId, amountCents: 6_000 }, key)));
    expect(new Set(refunds.map((refund) => refund.refundId)).size).toBe(1);
    expect(refunds[0]).toMatchObject({ status: 'succeeded', refundId: expect.stringMatching(/^re_offline_/) });
    expect((await provider.retrievePaymentIntent(paymentIntentId)).amountRefundedCents).toBe(6_000);
    const tooMuch = await rejection(provider.refund({ paymentIntentId, amountCents: 4_001 }, idempotencyKey('refund', 'b1', 2)));
    expect(tooMuch.options.code).toBe('amount_too_large');
    await provider.refund({ paymentIntentId, amountCents: 4_000 }, idempotencyKey('refund', 'b1', 3));
    expect((await provider.retrievePaymentIntent(paymentIntentId)).amountRefundedCents).toBe(10_000);
    const none = await rejection(provider.refund({ paymentIntentId, amountCents: 1 }, idempotencyKey('refund', 'b1', 4)));
    expect(none.options.code).toBe('charge_already_refunded');
  });

  it('transfers from a captured charge once per key, never more than the charge, and reverses transfers', async () => {
    const { accountId } = await provider.createConnectedAccount(
      { userId: 'u1', email: 'teacher@example.com' },
      idempotencyKey('connected-account', 'u1'),
    );
    const { paymentIntentId, chargeId } = await authorized();
    const input = {
      amountCents: 10_560,
      destinationAccountId: accountId,
      transferGroup: 'booking:b1',
      sourceChargeId: chargeId!,
      description: 'Lesson payout',
      metadata: { bookingId: 'b1' },
    };
    const uncaptured = await rejection(provider.transfer(input, idempotencyKey('transfer', 'b1')));
    expect(uncaptured.options.code).toBe('charge_not_captured');
    await provider.capture({ paymentIntentId, amountCents: 13_441 }, idempotencyKey('capture', 'b1'));
    const key = idempotencyKey('transfer', 'b1', 2);
    const transfers = await Promise.all(Array.from({ length: 5 }, () => provider.transfer(input, key)));
    expect(new Set(transfers.map((transfer) => transfer.transferId)).size).toBe(1);
    expect(await objectCount('transfer')).toBe(1);
    const overdrawn = await rejection(provider.transfer({ ...input, amountCents: 13_442 }, idempotencyKey('transfer', 'b1', 3)));
    expect(overdrawn.options.code).toBe('amount_too_large');
    const { reversalId } = await provider.reverseTransfer(
      { transferId: transfers[0]!.transferId, amountCents: 560 },
      idempotencyKey('transfer-reversal', 'b1'),
    );
    expect(reversalId).toMatch(/^trr_offline_/);
    const over = await rejection(
      provider.reverseTransfer({ transferId: transfers[0]!.transferId, amountCents: 10_001 }, idempotencyKey('transfer-reversal', 'b1', 2)),
    );
    expect(over.options.code).toBe('amount_too_large');
  });

  it('saves a test card through a SetupIntent: a new card id with the test card behaviour and a stable fingerprint', async () => {
    const { customerId } = await provider.createCustomer(
      { userId: 'u1', email: 'a@example.com', name: 'A' },
      idempotencyKey('customer', 'u1'),
    );
    const again = await provider.createCustomer({ userId: 'u1', email: 'a@example.com', name: 'A' }, idempotencyKey('customer', 'u1'));
    expect(again.customerId).toBe(customerId);
    const setup = await provider.createSetupIntent({ customerId, userId: 'u1' }, idempotencyKey('setup-intent', 'u1'));
    expect(setup).toMatchObject({
      status: 'requires_payment_method',
      clientSecret: expect.stringContaining(`${setup.setupIntentId}_secret_`),
    });

    const declined = await provider.confirmSetupIntent(
      { setupIntentId: setup.setupIntentId, paymentMethodId: 'pm_offline_setup_declined' },
      'confirm:1',
    );
    expect(declined).toMatchObject({ status: 'requires_payment_method', paymentMethodId: null, lastErrorCode: 'card_declined' });
    const confirmed = await provider.confirmSetupIntent(
      { setupIntentId: setup.setupIntentId, paymentMethodId: 'pm_offline_visa' },
      'confirm:2',
    );
    expect(confirmed).toMatchObject({ status: 'succeeded', customerId, paymentMethodId: expect.stringMatching(/^pm_offline_visa_/) });
    expect(
      await provider.confirmSetupIntent({ setupIntentId: setup.setupIntentId, paymentMethodId: 'pm_offline_visa' }, 'confirm:2'),
    ).toEqual(confirmed);
    expect(await provider.retrieveSetupIntent(setup.setupIntentId)).toMatchObject({
      status: 'succeeded',
      paymentMethodId: confirmed.paymentMethodId,
    });

    const card = await provider.retrievePaymentMethod(confirmed.paymentMethodId!);
    expect(card).toMatchObject({ customerId, brand: 'visa', last4: '4242', expMonth: 12 });
    expect(card.fingerprint).toBe((await provider.retrievePaymentMethod('pm_offline_visa')).fingerprint);
    expect(card.fingerprint).not.toBe((await provider.retrievePaymentMethod('pm_offline_visa_other')).fingerprint);

    // the saved card authorizes like the test card it came from
    const result = await provider.authorize(
      { ...authorization(confirmed.paymentMethodId!), customerId },
      idempotencyKey('authorize', 'b9'),
    );
    expect(result.status).toBe('authorized');
    await provider.detachPaymentMethod(confirmed.paymentMethodId!);
    expect((await provider.retrievePaymentMethod(confirmed.paymentMethodId!)).customerId).toBeNull();
    const afterDetach = await provider.authorize(
      { ...authorization(confirmed.paymentMethodId!), customerId },
      idempotencyKey('authorize', 'b10'),
    );
    expect(afterDetach).toMatchObject({ status: 'failed', code: 'payment_method_unavailable' });
  });

  it('connected accounts are ready at once offline, with an onboarding link back to the return URL', async () => {
    const { accountId } = await provider.createConnectedAccount(
      { userId: 'u1', email: 'teacher@example.com' },
      idempotencyKey('connected-account', 'u1'),
    );
    expect(accountId).toMatch(/^acct_offline_/);
    expect(await provider.retrieveAccount(accountId)).toEqual({
      accountId,
      payoutsEnabled: true,
      chargesEnabled: true,
      detailsSubmitted: true,
    });
    const link = await provider.createOnboardingLink({
      accountId,
      refreshUrl: 'http://localhost:3000/payouts/refresh',
      returnUrl: 'http://localhost:3000/payouts/done',
    });
    expect(link.url).toContain('http://localhost:3000/payouts/done?offline_onboarding=complete');
    expect(link.expiresAt.getTime()).toBeGreaterThan(clock.now().getTime());
  });

  it('rejects keys longer than 255 characters and non-integer amounts without recording anything', async () => {
    const long = await rejection(provider.authorize(authorization('pm_offline_visa'), 'k'.repeat(256)));
    expect(long.retryable).toBe(false);
    const fraction = await rejection(provider.authorize(authorization('pm_offline_visa', 10.5), 'k1'));
    expect(fraction.retryable).toBe(false);
    expect(await objectCount('payment_intent')).toBe(0);
  });
});
