import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase, truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { idempotencyKey } from '../src/payments/idempotency-keys.ts';
import { type PaymentProvider, PaymentProviderError } from '../src/payments/provider.ts';
import { callProviderRecorded, createPaymentProvider, createStripePaymentProvider } from '../src/payments/providers/index.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { startStripeFake, type StripeFake } from './support/stripe-fake.ts';

const NOW = '2027-03-02T15:00:00Z';
const clock = fixedClock(NOW);
let fake: StripeFake;
let stripe: PaymentProvider;
let database: TestDatabase;

/** A provider like production's, pointed at the fake; retries as configured. */
function provider(options: { maxNetworkRetries?: number; timeoutMs?: number } = {}): PaymentProvider {
  return createStripePaymentProvider({
    secretKey: fake.env.STRIPE_SECRET_KEY!,
    apiBaseUrl: fake.url,
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeoutMs: options.timeoutMs ?? 5_000,
  });
}

beforeAll(async () => {
  fake = await startStripeFake({ clock });
  stripe = provider();
  database = await createTestDatabase();
});
afterAll(async () => {
  await fake?.close();
  await database?.cleanup();
});
beforeEach(async () => {
  clock.set(NOW);
  fake.reset();
  await truncateAll(database);
});

async function rejection(promise: Promise<unknown>): Promise<PaymentProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PaymentProviderError);
  return error as PaymentProviderError;
}

/** A customer with a saved card, as the card-saving flow leaves them. */
async function customerWithCard(testCard = 'pm_card_visa') {
  const userId = `u-${testCard}`;
  const { customerId } = await stripe.createCustomer(
    { userId, email: 'student@example.com', name: 'Stu Dent' },
    idempotencyKey('customer', userId),
  );
  const setup = await stripe.createSetupIntent({ customerId, userId }, idempotencyKey('setup-intent', userId));
  const confirmed = await stripe.confirmSetupIntent(
    { setupIntentId: setup.setupIntentId, paymentMethodId: testCard },
    idempotencyKey('setup-intent-confirm', setup.setupIntentId),
  );
  return { customerId, paymentMethodId: confirmed.paymentMethodId!, confirmed };
}

function authorization(customerId: string, paymentMethodId: string, amountCents = 13_441) {
  return {
    amountCents,
    customerId,
    paymentMethodId,
    description: 'Piano lesson',
    metadata: { bookingId: 'b1', purpose: 'authorize' },
    transferGroup: 'booking:b1',
  };
}

describe('Stripe provider against the fake Stripe API', () => {
  it('authorizes with a manual-capture PaymentIntent confirmed off-session, reading capture_before from the charge', async () => {
    const { customerId, paymentMethodId } = await customerWithCard();
    const key = idempotencyKey('authorize', 'b1');
    const result = await stripe.authorize(authorization(customerId, paymentMethodId), key);
    expect(result).toMatchObject({
      status: 'authorized',
      amountCents: 13_441,
      paymentIntentId: expect.stringMatching(/^pi_/),
      chargeId: expect.stringMatching(/^ch_/),
    });
    // Visa off-session: 4 days 18 hours, not the 7 days one might assume
    expect(result.status === 'authorized' && result.captureBefore?.toISOString()).toBe('2027-03-07T09:00:00.000Z');
    const [request] = fake.requests.filter((entry) => entry.idempotencyKey === key);
    expect(request?.params).toMatchObject({
      amount: '13441',
      currency: 'usd',
      customer: customerId,
      payment_method: paymentMethodId,
      capture_method: 'manual',
      confirm: 'true',
      off_session: 'true',
      transfer_group: 'booking:b1',
      metadata: { bookingId: 'b1', purpose: 'authorize' },
      expand: ['latest_charge'],
    });
    const state = await stripe.retrievePaymentIntent(result.paymentIntentId!);
    expect(state).toMatchObject({
      status: 'requires_capture',
      amountCapturableCents: 13_441,
      metadata: { bookingId: 'b1' },
      chargeId: result.paymentIntentId ? expect.any(String) : null,
    });
  });

  it('sends each operation once per idempotency key: repeats replay the first answer, other parameters are refused', async () => {
    const { customerId, paymentMethodId } = await customerWithCard();
    const key = idempotencyKey('authorize', 'b1');
    const answers = await Promise.all([1, 2, 3].map(() => stripe.authorize(authorization(customerId, paymentMethodId), key)));
    answers.push(await stripe.authorize(authorization(customerId, paymentMethodId), key));
    expect(new Set(answers.map((answer) => answer.paymentIntentId)).size).toBe(1);
    expect(fake.callsFor(key)).toBe(4);
    expect(fake.executionsFor(key)).toBe(1);
    expect(fake.state.paymentIntents.size).toBe(1);
    const changed = await rejection(stripe.authorize(authorization(customerId, paymentMethodId, 9_999), key));
    expect(changed).toMatchObject({ retryable: false, options: { code: 'idempotency_error', statusCode: 400 } });

    // on the wire, as Stripe does it: form-encoded, the replay flagged with Idempotent-Replayed
    const post = () =>
      fetch(`${fake.url}/v1/customers`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${fake.env.STRIPE_SECRET_KEY}`,
          'content-type': 'application/x-www-form-urlencoded',
          'idempotency-key': 'raw-1',
        },
        body: 'email=a%40example.com&metadata[userId]=u9',
      });
    const original = await post();
    const replayed = await post();
    expect(original.headers.get('idempotent-replayed')).toBeNull();
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(await replayed.json()).toEqual(await original.json());
  });

  it('retries 5xx answers with the same key (SDK retries) and executes once', async () => {
    const { customerId, paymentMethodId } = await customerWithCard();
    const key = idempotencyKey('authorize', 'b1');
    fake.failNext(2, { kind: 'server_error', path: '/v1/payment_intents' });
    const result = await stripe.authorize(authorization(customerId, paymentMethodId), key);
    expect(result.status).toBe('authorized');
    expect(fake.callsFor(key)).toBe(3);
    expect(fake.executionsFor(key)).toBe(1);
  });

  it('a 5xx that outlasts the retries, a 429 and a dropped connection are retryable errors', async () => {
    const { customerId, paymentMethodId } = await customerWithCard();
    const noRetries = provider({ maxNetworkRetries: 0 });
    fake.failNext(1, { kind: 'server_error', path: '/v1/payment_intents' });
    expect((await rejection(noRetries.authorize(authorization(customerId, paymentMethodId), 'k-500'))).retryable).toBe(true);
    fake.failNext(1, { kind: 'rate_limit', path: '/v1/payment_intents' });
    expect(await rejection(noRetries.authorize(authorization(customerId, paymentMethodId), 'k-429'))).toMatchObject({
      retryable: true,
      options: { code: 'rate_limit' },
    });
    // a dropped connection is retried once by the SDK even with retries off; drop both
    fake.failNext(2, { kind: 'network', path: '/v1/payment_intents' });
    expect(await rejection(noRetries.authorize(authorization(customerId, paymentMethodId), 'k-net'))).toMatchObject({
      retryable: true,
      options: { code: 'connection_error' },
    });
    expect(fake.state.paymentIntents.size).toBe(0);
  });

  it('a timeout is a retryable error; the retry with the same key gets the answer Stripe already made', async () => {
    const { customerId, paymentMethodId } = await customerWithCard();
    const impatient = provider({ maxNetworkRetries: 0, timeoutMs: 300 });
    const key = idempotencyKey('capture', 'b1');
    const { paymentIntentId } = await stripe.authorize(authorization(customerId, paymentMethodId), idempotencyKey('authorize', 'b1'));
    // Stripe executes the capture, but answers after the client has given up
    fake.failNext(1, { kind: 'delay', when: 'after', delayMs: 1_000, path: /\/capture$/ });
    const started = Date.now();
    const timedOut = await rejection(impatient.capture({ paymentIntentId: paymentIntentId!, amountCents: 13_441 }, key));
    expect(Date.now() - started).toBeLessThan(950);
    expect(timedOut).toMatchObject({ retryable: true, options: { code: 'connection_error' } });
    const retried = await stripe.capture({ paymentIntentId: paymentIntentId!, amountCents: 13_441 }, key);
    expect(retried).toMatchObject({ status: 'captured', capturedCents: 13_441 });
    expect(fake.executionsFor(key)).toBe(1);
    expect(fake.requests.filter((request) => request.idempotencyKey === key).map((request) => request.replayed)).toEqual([false, true]);
  });

  it('a crash between the Stripe call and recording it: the pending operation is completed by the retry, Stripe executes once (R3/R9)', async () => {
    const { customerId, paymentMethodId } = await customerWithCard();
    const key = idempotencyKey('authorize', 'b1');
    const entry = {
      provider: 'stripe' as const,
      purpose: 'authorize',
      idempotencyKey: key,
      amountCents: 13_441,
      request: { bookingId: 'b1' },
    };
    const outcome = (result: Awaited<ReturnType<PaymentProvider['authorize']>>) => ({
      status: result.status === 'failed' ? ('failed' as const) : ('succeeded' as const),
      providerObjectId: result.paymentIntentId,
    });
    // first process: Stripe authorizes, the answer never arrives (connection dropped after executing)
    fake.failNext(2, { kind: 'network', when: 'after', path: '/v1/payment_intents' });
    const crashed = provider({ maxNetworkRetries: 0 });
    await rejection(
      callProviderRecorded(
        database.db,
        entry,
        () => crashed.authorize(authorization(customerId, paymentMethodId), key),
        outcome,
        () => clock.now(),
      ),
    );
    const pending = await database.db
      .selectFrom('paymentOperations')
      .selectAll()
      .where('idempotencyKey', '=', key)
      .executeTakeFirstOrThrow();
    expect(pending.status).toBe('pending');
    expect(fake.executionsFor(key)).toBe(1);
    // the restarted process retries with the same key (in another OS process, as the worker would)
    const script = `
      import { createStripePaymentProvider } from ${JSON.stringify(fileURLToPath(new URL('../src/payments/providers/stripe-provider.ts', import.meta.url)))};
      const stripe = createStripePaymentProvider({ secretKey: process.env.STRIPE_SECRET_KEY, apiBaseUrl: process.env.STRIPE_API_BASE_URL });
      const result = await stripe.authorize(JSON.parse(process.env.INPUT), process.env.KEY);
      process.stdout.write(JSON.stringify(result));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, ...fake.env, INPUT: JSON.stringify(authorization(customerId, paymentMethodId)), KEY: key },
    });
    const childResult = JSON.parse(stdout) as { status: string; paymentIntentId: string };
    expect(childResult.status).toBe('authorized');
    await callProviderRecorded(
      database.db,
      entry,
      () => stripe.authorize(authorization(customerId, paymentMethodId), key),
      outcome,
      () => clock.now(),
    );
    const completed = await database.db.selectFrom('paymentOperations').selectAll().where('idempotencyKey', '=', key).execute();
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ status: 'succeeded', providerObjectId: childResult.paymentIntentId });
    expect(fake.executionsFor(key)).toBe(1);
    expect(fake.state.paymentIntents.size).toBe(1);
  });

  it('maps declines to failed results (decline_code first), replayed for the same key', async () => {
    const { customerId, paymentMethodId } = await customerWithCard();
    fake.declineNext({ code: 'card_declined', declineCode: 'insufficient_funds' });
    const key = idempotencyKey('authorize', 'b1');
    const declined = await stripe.authorize(authorization(customerId, paymentMethodId), key);
    expect(declined).toMatchObject({
      status: 'failed',
      code: 'insufficient_funds',
      requiresAction: false,
      paymentIntentId: expect.stringMatching(/^pi_/),
    });
    expect(await stripe.authorize(authorization(customerId, paymentMethodId), key)).toEqual(declined);
    expect(fake.executionsFor(key)).toBe(1);
    expect((await stripe.retrievePaymentIntent(declined.paymentIntentId!)).status).toBe('requires_payment_method');

    const threeDs = await customerWithCard('pm_card_authenticationRequired');
    expect(threeDs.confirmed.status).toBe('requires_action');
    const needsCustomer = await stripe.authorize(
      authorization(threeDs.customerId, threeDs.paymentMethodId),
      idempotencyKey('authorize', 'b2'),
    );
    expect(needsCustomer).toMatchObject({ status: 'failed', code: 'authentication_required', requiresAction: true });

    const failing = await customerWithCard('pm_card_chargeCustomerFail');
    expect(failing.confirmed.status).toBe('succeeded');
    expect(
      await stripe.authorize(authorization(failing.customerId, failing.paymentMethodId), idempotencyKey('authorize', 'b3')),
    ).toMatchObject({
      status: 'failed',
      code: 'generic_decline',
    });
    // a card that is not the customer's is a failed payment, not a crash
    expect(await stripe.authorize(authorization(customerId, failing.paymentMethodId), idempotencyKey('authorize', 'b4'))).toMatchObject({
      status: 'failed',
      code: 'payment_method_unavailable',
    });
  });

  it('captures (amount_to_capture), and reports a lost authorization or a capture decline as failed results', async () => {
    const { customerId, paymentMethodId } = await customerWithCard();
    const first = await stripe.authorize(authorization(customerId, paymentMethodId), idempotencyKey('authorize', 'b1'));
    const captured = await stripe.capture(
      { paymentIntentId: first.paymentIntentId!, amountCents: 12_000 },
      idempotencyKey('capture', 'b1'),
    );
    expect(captured).toMatchObject({ status: 'captured', capturedCents: 12_000, chargeId: expect.stringMatching(/^ch_/) });
    expect(fake.requests.at(-1)?.params).toMatchObject({ amount_to_capture: '12000' });
    const state = await stripe.retrievePaymentIntent(first.paymentIntentId!);
    expect(state).toMatchObject({ status: 'succeeded', amountReceivedCents: 12_000, amountRefundedCents: 0, captureBefore: null });

    const second = await stripe.authorize(authorization(customerId, paymentMethodId), idempotencyKey('authorize', 'b2'));
    fake.failCaptureNext({ declineCode: 'do_not_honor' });
    expect(
      await stripe.capture({ paymentIntentId: second.paymentIntentId!, amountCents: 13_441 }, idempotencyKey('capture', 'b2')),
    ).toMatchObject({
      status: 'failed',
      code: 'do_not_honor',
      authorizationLost: false,
    });
    fake.expireAuthorization(second.paymentIntentId!);
    expect(
      await stripe.capture({ paymentIntentId: second.paymentIntentId!, amountCents: 13_441 }, idempotencyKey('capture', 'b2', 2)),
    ).toMatchObject({
      status: 'failed',
      code: 'charge_expired_for_capture',
      authorizationLost: true,
    });

    const third = await stripe.authorize(authorization(customerId, paymentMethodId), idempotencyKey('authorize', 'b3'));
    clock.advance(4 * 86_400_000 + 18 * 3_600_000);
    expect((await stripe.retrievePaymentIntent(third.paymentIntentId!)).status).toBe('canceled');
  });

  it('cancels an authorization (again: still canceled), refunds, transfers to an onboarded account and reverses', async () => {
    const { customerId, paymentMethodId } = await customerWithCard();
    const held = await stripe.authorize(authorization(customerId, paymentMethodId), idempotencyKey('authorize', 'b1'));
    expect(
      await stripe.cancelAuthorization(
        { paymentIntentId: held.paymentIntentId!, reason: 'requested_by_customer' },
        idempotencyKey('cancel-authorization', 'b1'),
      ),
    ).toEqual({ status: 'canceled' });
    expect(
      await stripe.cancelAuthorization({ paymentIntentId: held.paymentIntentId! }, idempotencyKey('cancel-authorization', 'b1', 2)),
    ).toEqual({ status: 'canceled' });

    const paid = await stripe.authorize(authorization(customerId, paymentMethodId), idempotencyKey('authorize', 'b2'));
    const captured = await stripe.capture({ paymentIntentId: paid.paymentIntentId!, amountCents: 13_441 }, idempotencyKey('capture', 'b2'));
    const refund = await stripe.refund(
      { paymentIntentId: paid.paymentIntentId!, amountCents: 1_441, reason: 'requested_by_customer', metadata: { bookingId: 'b2' } },
      idempotencyKey('refund', 'b2'),
    );
    expect(refund).toMatchObject({ status: 'succeeded', refundId: expect.stringMatching(/^re_/) });
    expect((await stripe.retrievePaymentIntent(paid.paymentIntentId!)).amountRefundedCents).toBe(1_441);
    const tooMuch = await rejection(
      stripe.refund({ paymentIntentId: paid.paymentIntentId!, amountCents: 12_001 }, idempotencyKey('refund', 'b2', 2)),
    );
    expect(tooMuch.retryable).toBe(false);

    const { accountId } = await stripe.createConnectedAccount(
      { userId: 'i1', email: 'teacher@example.com' },
      idempotencyKey('connected-account', 'i1'),
    );
    const transferInput = {
      amountCents: 10_560,
      destinationAccountId: accountId,
      transferGroup: 'booking:b2',
      sourceChargeId: captured.status === 'captured' ? captured.chargeId! : '',
      description: 'Lesson payout',
      metadata: { bookingId: 'b2' },
    };
    const notReady = await rejection(stripe.transfer(transferInput, idempotencyKey('transfer', 'b2')));
    expect(notReady).toMatchObject({ retryable: false, options: { code: 'insufficient_capabilities_for_transfer' } });
    fake.completeOnboarding(accountId);
    const { transferId } = await stripe.transfer(transferInput, idempotencyKey('transfer', 'b2', 2));
    expect(fake.state.transfers.get(transferId)).toMatchObject({
      amount: 10_560,
      destination: accountId,
      source_transaction: transferInput.sourceChargeId,
      transfer_group: 'booking:b2',
    });
    const { reversalId } = await stripe.reverseTransfer({ transferId, amountCents: 560 }, idempotencyKey('transfer-reversal', 'b2'));
    expect(fake.state.transferReversals.get(reversalId)).toMatchObject({ amount: 560, transfer: transferId });
  });

  it('customers, SetupIntents (off_session), saved cards with fingerprints, detaching twice', async () => {
    const { customerId, paymentMethodId, confirmed } = await customerWithCard();
    expect(confirmed).toMatchObject({ status: 'succeeded', customerId });
    expect(fake.requests.find((request) => request.path === '/v1/setup_intents')?.params).toMatchObject({
      usage: 'off_session',
      customer: customerId,
    });
    const card = await stripe.retrievePaymentMethod(paymentMethodId);
    expect(card).toMatchObject({ customerId, brand: 'visa', last4: '4242', fingerprint: expect.any(String) });
    expect((await stripe.retrieveSetupIntent(confirmed.setupIntentId)).paymentMethodId).toBe(paymentMethodId);

    const { customerId: other } = await stripe.createCustomer(
      { userId: 'u2', email: 'b@example.com', name: 'B' },
      idempotencyKey('customer', 'u2'),
    );
    const setup = await stripe.createSetupIntent({ customerId: other, userId: 'u2' }, idempotencyKey('setup-intent', 'u2'));
    const declined = await stripe.confirmSetupIntent(
      { setupIntentId: setup.setupIntentId, paymentMethodId: 'pm_card_chargeDeclined' },
      'confirm-declined',
    );
    expect(declined).toMatchObject({ status: 'requires_payment_method', lastErrorCode: 'generic_decline', paymentMethodId: null });

    await stripe.detachPaymentMethod(paymentMethodId);
    await stripe.detachPaymentMethod(paymentMethodId);
    expect((await stripe.retrievePaymentMethod(paymentMethodId)).customerId).toBeNull();
    expect(await rejection(stripe.retrievePaymentMethod('pm_unknown'))).toMatchObject({
      retryable: false,
      options: { code: 'resource_missing', statusCode: 404 },
    });
  });

  it('Connect Express accounts, onboarding links and account state', async () => {
    const key = idempotencyKey('connected-account', 'i1');
    const { accountId } = await stripe.createConnectedAccount({ userId: 'i1', email: 'teacher@example.com' }, key);
    expect(fake.requests.find((request) => request.idempotencyKey === key)?.params).toMatchObject({
      type: 'express',
      capabilities: { transfers: { requested: 'true' } },
    });
    expect(await stripe.retrieveAccount(accountId)).toEqual({
      accountId,
      payoutsEnabled: false,
      chargesEnabled: false,
      detailsSubmitted: false,
    });
    const link = await stripe.createOnboardingLink({
      accountId,
      refreshUrl: 'http://localhost:3000/r',
      returnUrl: 'http://localhost:3000/done',
    });
    expect(link.url).toMatch(/^https:\/\/connect\.stripe\.com\//);
    expect(link.expiresAt.getTime()).toBe(Date.parse(NOW) + 300_000);
    fake.completeOnboarding(accountId);
    expect(await stripe.retrieveAccount(accountId)).toMatchObject({ payoutsEnabled: true, detailsSubmitted: true });
  });

  it('createPaymentProvider picks Stripe when STRIPE_SECRET_KEY is set and says so in the log without the key', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = {
      info: (object: Record<string, unknown>, message: string) => lines.push({ ...object, message }),
      warn: () => {},
    } as never;
    const config = loadConfig({ ...fake.env, NODE_ENV: 'test' });
    const chosen = createPaymentProvider(config.payments, database.db, { logger });
    expect(chosen).toMatchObject({ name: 'stripe', offline: false });
    expect(JSON.stringify(lines)).toContain('payments: Stripe (test mode)');
    expect(JSON.stringify(lines)).not.toContain(fake.env.STRIPE_SECRET_KEY);
    const offline = createPaymentProvider(loadConfig({ NODE_ENV: 'test' }).payments, database.db, { logger });
    expect(offline).toMatchObject({ name: 'offline', offline: true });
    expect(() => loadConfig({ PAYMENTS_PROVIDER: 'stripe' })).toThrow(/STRIPE_SECRET_KEY/);
    expect(loadConfig({ ...fake.env, PAYMENTS_PROVIDER: 'offline' }).payments.provider).toBe('offline');
  });
});
