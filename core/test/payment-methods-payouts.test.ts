import { truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows } from './support/auth.ts';
import { actingUser } from './support/bookings.ts';
import { addInstructorProfile } from './support/factories.ts';
import { startStripeFake, type StripeFake } from './support/stripe-fake.ts';

const NOW = '2027-03-02T15:00:00Z';
const clock = fixedClock(NOW);
const NO_LIMITS = { RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' }, payment: { mode: 'off' } }) };
let offline: TestApi;
let stripeApi: TestApi;
let fake: StripeFake;

beforeAll(async () => {
  fake = await startStripeFake({ clock });
  offline = await startTestApi({ clock, env: NO_LIMITS });
  stripeApi = await startTestApi({ clock, env: { ...NO_LIMITS, ...fake.env } });
});
afterAll(async () => {
  await stripeApi?.close();
  await offline?.close();
  await fake?.close();
});
beforeEach(async () => {
  clock.set(NOW);
  fake.reset();
  await truncateAll(offline.database);
  await truncateAll(stripeApi.database);
});

async function instructor(api: TestApi) {
  const user = await actingUser(api, 'instructor');
  await addInstructorProfile(api.database, user.userId);
  return user;
}

const link = (api: TestApi, headers: Record<string, string>, json: unknown = {}) =>
  api.request('/api/v1/payouts/onboarding-link', { method: 'POST', headers, json });

describe('payout onboarding on the offline provider', () => {
  it('creates the account on first use, returns a link back to the platform, and the account is ready (offline)', async () => {
    const teacher = await instructor(offline);
    const before = await offline.request('/api/v1/payouts/account', { headers: teacher.headers });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      accountId: null,
      status: 'not_started',
      payoutsEnabled: false,
      provider: 'offline',
      offline: true,
    });

    const first = await link(offline, teacher.headers);
    expect(first.status).toBe(201);
    expect(first.body.url).toMatch(/^http:\/\/localhost:5173\/instructor\/payouts\?onboarding=return&offline_onboarding=complete/);
    expect(first.body.account).toMatchObject({
      accountId: expect.stringMatching(/^acct_offline_/),
      status: 'active',
      payoutsEnabled: true,
      offline: true,
    });
    const again = await link(offline, teacher.headers, { returnUrl: 'http://localhost:3000/me/payouts' });
    expect(again.status).toBe(201);
    expect(again.body.account.accountId).toBe(first.body.account.accountId);
    expect(again.body.url).toContain('http://localhost:3000/me/payouts');

    const profile = await offline.database.db
      .selectFrom('instructorProfiles')
      .selectAll()
      .where('userId', '=', teacher.userId)
      .executeTakeFirstOrThrow();
    expect(profile).toMatchObject({
      stripeAccountId: first.body.account.accountId,
      payoutProvider: 'offline',
      payoutsEnabled: true,
      payoutDetailsSubmitted: true,
    });
    expect(await auditRows(offline.database, 'payout_account.create')).toHaveLength(1);
    expect(await auditRows(offline.database, 'payout_account.onboarding_link')).toHaveLength(2);
  });

  it('refuses return URLs outside the platform, students, and instructors without a profile', async () => {
    const teacher = await instructor(offline);
    const foreign = await link(offline, teacher.headers, { returnUrl: 'https://evil.example.com/steal' });
    expect(foreign.status).toBe(422);
    expect(foreign.body).toMatchObject({ code: 'validation_error', field: 'returnUrl' });
    const student = await actingUser(offline);
    expect((await link(offline, student.headers)).status).toBe(403);
    expect((await offline.request('/api/v1/payouts/account', { headers: student.headers })).status).toBe(403);
    const bare = await actingUser(offline, 'instructor');
    expect((await link(offline, bare.headers)).status).toBe(404);
    expect((await offline.request('/api/v1/payouts/account')).status).toBe(401);
  });
});

describe('payout onboarding on Stripe (fake)', () => {
  it('creates one Express account even on a double click, links to Stripe, and re-reads the state from Stripe', async () => {
    const teacher = await instructor(stripeApi);
    const [first, second] = await Promise.all([link(stripeApi, teacher.headers), link(stripeApi, teacher.headers)]);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.account.accountId).toBe(first.body.account.accountId);
    expect(fake.state.accounts.size).toBe(1);
    expect(fake.countFor('POST', '/v1/accounts')).toBe(2);
    expect(first.body.url).toMatch(/^https:\/\/connect\.stripe\.com\/setup\/e\/acct_/);
    expect(first.body.expiresAt).toBe('2027-03-02T15:05:00.000Z');
    expect(first.body.account).toMatchObject({ status: 'onboarding', payoutsEnabled: false, provider: 'stripe', offline: false });
    const accountRequest = fake.requests.find((request) => request.path === '/v1/accounts');
    const { email } = await stripeApi.database.db
      .selectFrom('users')
      .select('email')
      .where('id', '=', teacher.userId)
      .executeTakeFirstOrThrow();
    expect(accountRequest?.params).toMatchObject({ type: 'express', email, metadata: { userId: teacher.userId } });
    const linkRequest = fake.requests.find((request) => request.path === '/v1/account_links');
    expect(linkRequest?.params).toMatchObject({
      type: 'account_onboarding',
      return_url: 'http://localhost:5173/instructor/payouts?onboarding=return',
    });

    fake.completeOnboarding(first.body.account.accountId);
    const after = await stripeApi.request('/api/v1/payouts/account', { headers: teacher.headers });
    expect(after.body).toMatchObject({ status: 'active', payoutsEnabled: true, detailsSubmitted: true });
    const profile = await stripeApi.database.db
      .selectFrom('instructorProfiles')
      .selectAll()
      .where('userId', '=', teacher.userId)
      .executeTakeFirstOrThrow();
    expect(profile).toMatchObject({ payoutsEnabled: true, payoutDetailsSubmitted: true, payoutProvider: 'stripe' });
    expect(await auditRows(stripeApi.database, 'payout_account.updated')).toHaveLength(1);
  });

  it('Stripe being down answers 503 with Retry-After and creates nothing here', async () => {
    const teacher = await instructor(stripeApi);
    fake.failNext(10, { kind: 'server_error', path: '/v1/accounts' });
    const { status, headers, body } = await link(stripeApi, teacher.headers);
    expect(status).toBe(503);
    expect(body.code).toBe('unavailable');
    expect(headers.get('retry-after')).toBeTruthy();
    const profile = await stripeApi.database.db
      .selectFrom('instructorProfiles')
      .select(['stripeAccountId'])
      .where('userId', '=', teacher.userId)
      .executeTakeFirstOrThrow();
    expect(profile.stripeAccountId).toBeNull();
  });
});

describe('saving cards on Stripe (fake)', () => {
  it("confirms a SetupIntent server-side with a Stripe test card and saves the customer's own card", async () => {
    const student = await actingUser(stripeApi);
    const { status, body } = await stripeApi.request('/api/v1/payments/methods', {
      method: 'POST',
      headers: student.headers,
      json: { paymentMethodId: 'pm_card_visa' },
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({ brand: 'visa', last4: '4242', provider: 'stripe', offline: false, isDefault: true });
    const [customer] = [...fake.state.customers.values()];
    expect(customer).toMatchObject({ metadata: { userId: student.userId } });
    const setup = fake.requests.find((request) => request.path === '/v1/setup_intents');
    expect(setup?.params).toMatchObject({ usage: 'off_session', customer: customer!.id });
    const row = await stripeApi.database.db.selectFrom('paymentMethods').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(fake.state.paymentMethods.get(row.providerPaymentMethodId)).toMatchObject({ customer: customer!.id });
    expect(row.cardFingerprint).toBe(fake.state.paymentMethods.get(row.providerPaymentMethodId)?.card.fingerprint);

    const declined = await stripeApi.request('/api/v1/payments/methods', {
      method: 'POST',
      headers: student.headers,
      json: { paymentMethodId: 'pm_card_chargeDeclined' },
    });
    expect(declined.status).toBe(402);
    const threeDs = await stripeApi.request('/api/v1/payments/methods', {
      method: 'POST',
      headers: student.headers,
      json: { paymentMethodId: 'pm_card_authenticationRequired' },
    });
    expect(threeDs).toMatchObject({ status: 402, body: { code: 'card_declined' } });

    const removed = await stripeApi.request(`/api/v1/payments/methods/${body.id}`, { method: 'DELETE', headers: student.headers });
    expect(removed.status).toBe(204);
    expect(fake.state.paymentMethods.get(row.providerPaymentMethodId)?.customer).toBeNull();
  });
});
