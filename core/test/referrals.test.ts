import { newId } from '@instainstru/db';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { afterBookingRefunded, afterLessonCompleted, getCreditBalance } from '../src/credits/index.ts';
import { createCoreHandlers } from '../src/jobs/handlers.ts';
import type { JobContext } from '../src/jobs/start-worker.ts';
import { REFERRAL_CONFIG } from '../src/referrals/index.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { confirmedBooking, DAY_MS, expectLedgerConsistent, inTransaction } from './credits-helpers.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows, fromIp } from './support/auth.ts';
import { actingUser, tokenHeaders } from './support/bookings.ts';
import { saveTestCard } from './support/payments.ts';

// Accounts are created "now" by the database, so the test clock starts at the real time.
const clock = fixedClock(new Date());
let api: TestApi;
let ipCounter = 0;

beforeAll(async () => {
  api = await startTestApi({
    clock,
    env: { RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' }, payment: { mode: 'off' } }) },
  });
});

afterAll(async () => {
  await api?.close();
});

beforeEach(() => {
  clock.set(new Date());
});

/** A distinct client address per call (the app trusts X-Forwarded-For from loopback). */
function freshIp(): string {
  ipCounter += 1;
  return `10.${Math.floor(ipCounter / 250) % 250}.${ipCounter % 250}.${(ipCounter % 7) + 1}`;
}

function deviceHash(): string {
  return `dev_${newId().toLowerCase()}`;
}

async function referrerWithCode(role: 'student' | 'instructor' = 'student', seen: { ip?: string; device?: string } = {}) {
  const user = await actingUser(api, role);
  if (role === 'instructor') await api.database.db.insertInto('instructorProfiles').values({ userId: user.userId, isLive: true }).execute();
  const query = seen.device ? `?deviceFingerprintHash=${seen.device}` : '';
  const me = await api.request(`/api/v1/referrals/me${query}`, { headers: fromIp(seen.ip ?? freshIp(), user.headers) });
  expect(me.status).toBe(200);
  return { ...user, code: me.body.code as string };
}

async function newInstructor() {
  const user = await actingUser(api, 'instructor');
  await api.database.db.insertInto('instructorProfiles').values({ userId: user.userId, isLive: true }).execute();
  return user;
}

function attribute(headers: Record<string, string>, json: unknown, ip = freshIp()) {
  return api.request('/api/v1/referrals/attribute', { method: 'POST', headers: fromIp(ip, headers), json });
}

/** The student completes a lesson with this price; credits' completion hook runs as the lifecycle would. */
async function completeLesson(studentId: string, lessonPriceCents: number, instructorId?: string) {
  const bookingId = await confirmedBooking(api.database, studentId, { status: 'completed', lessonPriceCents });
  if (instructorId) await api.database.db.updateTable('bookings').set({ instructorId }).where('id', '=', bookingId).execute();
  const booking = await api.database.db.selectFrom('bookings').select('instructorId').where('id', '=', bookingId).executeTakeFirstOrThrow();
  const outcome = await inTransaction(api.database, (trx) =>
    afterLessonCompleted(trx, { bookingId, studentId, instructorId: booking.instructorId, lessonPriceCents, now: clock.now() }),
  );
  return { bookingId, outcome };
}

async function runUnlocker() {
  const handler = createCoreHandlers({ payments: api.deps.payments })['referrals.unlock-rewards']!;
  return handler(api.database.db, { schedule: 'referral-unlocker', slot: clock.now().toISOString() }, {
    clock,
  } as unknown as JobContext) as Promise<{
    unlocked: number;
    paid: number;
    voided: number;
    blocked: number;
    failed: number;
    rewardIds: string[];
  }>;
}

async function rewardsOf(attributionId: string) {
  return api.database.db.selectFrom('referralRewards').selectAll().where('attributionId', '=', attributionId).orderBy('role').execute();
}

async function connectPayouts(userId: string): Promise<string> {
  const { accountId } = await api.deps.payments.createConnectedAccount(
    { userId, email: `${userId}@example.com` },
    `connected-account:${userId}:1`,
  );
  await api.database.db
    .updateTable('instructorProfiles')
    .set({ stripeAccountId: accountId, payoutsEnabled: true })
    .where('userId', '=', userId)
    .execute();
  return accountId;
}

describe('student referrals', () => {
  it('give $20 / get $20 after a first lesson of at least $80, held 7 days, expiring 6 months later', async () => {
    const referrer = await referrerWithCode();
    const friend = await actingUser(api, 'student');
    const applied = await attribute(friend.headers, { code: referrer.code.toLowerCase(), deviceFingerprintHash: deviceHash() });
    expect(applied.status).toBe(201);
    expect(applied.body).toMatchObject({
      status: 'attributed',
      kind: 'student',
      referrerId: referrer.userId,
      referredId: friend.userId,
      flagged: false,
    });
    const again = await attribute(friend.headers, { code: referrer.code });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(applied.body.id);

    // A cheaper first lesson does not qualify; the next one of $80 or more does.
    const cheap = await completeLesson(friend.userId, REFERRAL_CONFIG.student.minimumFirstLessonCents - 1);
    expect(cheap.outcome.referrals).toEqual([expect.objectContaining({ outcome: 'below_minimum' })]);
    const qualifying = await completeLesson(friend.userId, 9000);
    expect(qualifying.outcome.referrals[0]).toMatchObject({ outcome: 'qualified' });
    const rewards = await rewardsOf(applied.body.id);
    expect(rewards.map((reward) => [reward.role, reward.kind, reward.amountCents, reward.status])).toEqual([
      ['referred', 'credit', 2000, 'pending'],
      ['referrer', 'credit', 2000, 'pending'],
    ]);
    expect(rewards[0]!.holdUntil.getTime()).toBe(clock.now().getTime() + 7 * DAY_MS);

    // Inside the hold nothing unlocks.
    clock.advance(7 * DAY_MS - 60_000);
    expect(await runUnlocker()).toMatchObject({ unlocked: 0 });
    expect((await getCreditBalance(api.database.db, referrer.userId, clock.now())).availableCents).toBe(0);

    clock.advance(60_000);
    const run = await runUnlocker();
    expect(run).toMatchObject({ unlocked: 2, voided: 0 });
    expect(await runUnlocker()).toMatchObject({ unlocked: 0 });
    for (const userId of [referrer.userId, friend.userId]) {
      const lot = await api.database.db
        .selectFrom('creditLots')
        .selectAll()
        .where('userId', '=', userId)
        .where('source', '=', 'referral')
        .executeTakeFirstOrThrow();
      expect(lot.originalCents).toBe(2000);
      const sixMonths = new Date(clock.now().getTime());
      sixMonths.setUTCMonth(sixMonths.getUTCMonth() + 6);
      expect(lot.expiresAt.toISOString()).toBe(sixMonths.toISOString());
      await expectLedgerConsistent(api.database.db, userId);
    }
    const me = await api.request('/api/v1/referrals/me', { headers: fromIp(freshIp(), referrer.headers) });
    expect(me.body.stats).toMatchObject({ qualified: 1, unlockedCents: 2000, pendingCents: 0, remainingStudentRewards: 19 });
    expect(me.body.terms).toMatchObject({
      studentReferrerRewardCents: 2000,
      minimumFirstLessonCents: 8000,
      holdDays: 7,
      rewardExpiryMonths: 6,
    });
    expect((await auditRows(api.database, 'referral.unlock')).length).toBeGreaterThanOrEqual(2);
  });

  it('refuse your own code, a second referrer, accounts older than 30 days, and codes applied after a first lesson', async () => {
    const referrer = await referrerWithCode();
    const own = await attribute(referrer.headers, { code: referrer.code });
    expect(own.status).toBe(422);

    const friend = await actingUser(api, 'student');
    expect((await attribute(friend.headers, { code: referrer.code })).status).toBe(201);
    const other = await referrerWithCode();
    expect((await attribute(friend.headers, { code: other.code })).status).toBe(409);
    expect((await attribute(friend.headers, { code: 'NOSUCHCODE' })).status).toBe(404);

    const old = await actingUser(api, 'student');
    clock.advance((REFERRAL_CONFIG.attributionWindowDays + 1) * DAY_MS);
    const late = await attribute(old.headers, { code: referrer.code });
    expect(late.status).toBe(409);
    expect(late.body.detail).toContain('30 days');
    clock.set(new Date());

    const experienced = await actingUser(api, 'student');
    await completeLesson(experienced.userId, 9000);
    expect((await attribute(experienced.headers, { code: referrer.code })).status).toBe(409);
  });
});

describe('referral fraud rules', () => {
  it('reject a self-referral by device fingerprint', async () => {
    const device = deviceHash();
    const referrer = await referrerWithCode('student', { device });
    const sockPuppet = await actingUser(api, 'student');
    const answer = await attribute(sockPuppet.headers, { code: referrer.code, deviceFingerprintHash: device });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'rejected', rejectionReason: 'self_referral_device', flagged: true });
    // a rejected attribution earns nothing
    const lesson = await completeLesson(sockPuppet.userId, 9000);
    expect(lesson.outcome.referrals).toEqual([]);
  });

  it('reject a self-referral by IP address hash', async () => {
    const ip = freshIp();
    const referrer = await referrerWithCode('student', { ip });
    const sockPuppet = await actingUser(api, 'student');
    const answer = await attribute(sockPuppet.headers, { code: referrer.code, deviceFingerprintHash: deviceHash() }, ip);
    expect(answer.body).toMatchObject({ status: 'rejected', rejectionReason: 'self_referral_ip' });
    expect(
      (await auditRows(api.database, 'referral.attribute')).some((row) => row.resourceId === answer.body.id && row.outcome === 'denied'),
    ).toBe(true);
  });

  it('reject a self-referral by card fingerprint, at attribution or when the card is saved later', async () => {
    const referrer = await referrerWithCode();
    const shared = `pm_offline_visa_${newId().toLowerCase()}` as const;
    await saveTestCard(api, referrer.headers, shared);

    const early = await actingUser(api, 'student');
    await saveTestCard(api, early.headers, shared);
    expect((await attribute(early.headers, { code: referrer.code })).body).toMatchObject({
      status: 'rejected',
      rejectionReason: 'self_referral_card',
    });

    const late = await actingUser(api, 'student');
    const applied = await attribute(late.headers, { code: referrer.code });
    expect(applied.body.status).toBe('attributed');
    await saveTestCard(api, late.headers, shared);
    const lesson = await completeLesson(late.userId, 9000);
    expect(lesson.outcome.referrals).toEqual([expect.objectContaining({ outcome: 'rejected' })]);
    expect(await rewardsOf(applied.body.id)).toEqual([]);
    const row = await api.database.db
      .selectFrom('referralAttributions')
      .selectAll()
      .where('id', '=', applied.body.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'rejected', rejectionReason: 'self_referral_card', flagged: true });
  });

  it('hold the 6th attribution in a day for review; rewards wait until staff approve', async () => {
    const referrer = await referrerWithCode();
    const answers = [];
    for (let index = 0; index < REFERRAL_CONFIG.velocity.maxPerDay + 1; index += 1) {
      const friend = await actingUser(api, 'student');
      answers.push({ friend, answer: await attribute(friend.headers, { code: referrer.code, deviceFingerprintHash: deviceHash() }) });
      clock.advance(60_000);
    }
    expect(answers.map(({ answer }) => answer.body.status)).toEqual([
      'attributed',
      'attributed',
      'attributed',
      'attributed',
      'attributed',
      'held',
    ]);
    const held = answers[5]!;
    expect(held.answer.body).toMatchObject({ flagged: true, flagReason: 'velocity_day' });

    const admin = await actingUser(api, 'admin');
    const queue = await api.request(`/api/v1/admin/referrals?flagged=true&status=held&referrerId=${referrer.userId}`, {
      headers: admin.headers,
    });
    expect(queue.status).toBe(200);
    expect(queue.body.items.map((item: { id: string }) => item.id)).toEqual([held.answer.body.id]);
    expect(queue.body.items[0]).toMatchObject({ flagReason: 'velocity_day', provider: 'offline', offline: true });
    expect((await api.request('/api/v1/admin/referrals', { headers: referrer.headers })).status).toBe(403);

    await completeLesson(held.friend.userId, 9000);
    clock.advance(8 * DAY_MS);
    expect(await runUnlocker()).toMatchObject({ blocked: 2, unlocked: expect.any(Number) });
    expect((await rewardsOf(held.answer.body.id)).map((reward) => [reward.status, reward.blockedReason])).toEqual([
      ['pending', 'held_for_review'],
      ['pending', 'held_for_review'],
    ]);

    const approved = await api.request(`/api/v1/admin/referrals/${held.answer.body.id}/review`, {
      method: 'POST',
      headers: admin.headers,
      json: { decision: 'approve', note: 'Study group, verified by phone' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('qualified');
    await runUnlocker();
    expect((await rewardsOf(held.answer.body.id)).map((reward) => reward.status)).toEqual(['unlocked', 'unlocked']);
  });

  it('hold the 16th attribution in a week', async () => {
    const referrer = await referrerWithCode();
    const statuses: string[] = [];
    for (let index = 0; index < REFERRAL_CONFIG.velocity.maxPerWeek + 1; index += 1) {
      const friend = await actingUser(api, 'student');
      const answer = await attribute(friend.headers, { code: referrer.code });
      statuses.push(`${answer.body.status}:${answer.body.flagReason ?? ''}`);
      // 4 a day stays under the daily limit
      clock.advance(6 * 3_600_000);
    }
    expect(statuses.slice(0, 15).every((status) => status === 'attributed:')).toBe(true);
    expect(statuses[15]).toBe('held:velocity_week');

    // Staff reject it: it stays on record as rejected and can earn nothing.
    const admin = await actingUser(api, 'admin');
    const held = await api.request(`/api/v1/admin/referrals?status=held&referrerId=${referrer.userId}`, { headers: admin.headers });
    const heldId: string = held.body.items[0].id;
    const rejected = await api.request(`/api/v1/admin/referrals/${heldId}/review`, {
      method: 'POST',
      headers: admin.headers,
      json: { decision: 'reject', note: 'Bulk sign-ups from one campus kiosk' },
    });
    expect(rejected.body).toMatchObject({ status: 'rejected', rejectionReason: 'rejected_on_review' });
    const again = await api.request(`/api/v1/admin/referrals/${heldId}/review`, {
      method: 'POST',
      headers: admin.headers,
      json: { decision: 'approve', note: 'Changed my mind' },
    });
    expect(again.status).toBe(409);
    expect(
      (await auditRows(api.database, 'referral.review')).some(
        (row) => row.resourceId === heldId && row.reason === 'Bulk sign-ups from one campus kiosk',
      ),
    ).toBe(true);
  });
});

describe('the referral reward cap, hold and void rules', () => {
  it('a referrer earns at most 20 rewards; the friend still gets theirs', async () => {
    const referrer = await referrerWithCode();
    // 20 rewards already earned (inserted directly: the rest of the flow is tested above)
    for (let index = 0; index < REFERRAL_CONFIG.student.maxRewardsPerReferrer; index += 1) {
      const friend = await actingUser(api, 'student');
      const attributionId = newId();
      await api.database.db
        .insertInto('referralAttributions')
        .values({
          id: attributionId,
          code: referrer.code,
          referrerId: referrer.userId,
          referredId: friend.userId,
          kind: 'student',
          attributedAt: new Date(clock.now().getTime() - 60 * DAY_MS),
          status: 'qualified',
        })
        .execute();
      await api.database.db
        .insertInto('referralRewards')
        .values({
          id: newId(),
          attributionId,
          beneficiaryId: referrer.userId,
          role: 'referrer',
          kind: 'credit',
          amountCents: 2000,
          status: 'unlocked',
          holdUntil: clock.now(),
          expiresAt: new Date(clock.now().getTime() + 100 * DAY_MS),
        })
        .execute();
    }
    const friend = await actingUser(api, 'student');
    const applied = await attribute(friend.headers, { code: referrer.code });
    await completeLesson(friend.userId, 12_000);
    expect((await rewardsOf(applied.body.id)).map((reward) => [reward.role, reward.status, reward.voidReason])).toEqual([
      ['referred', 'pending', null],
      ['referrer', 'void', 'referrer_cap_reached'],
    ]);
  });

  it('voids pending rewards when the qualifying lesson is refunded, and a later lesson can qualify again', async () => {
    const referrer = await referrerWithCode();
    const friend = await actingUser(api, 'student');
    const applied = await attribute(friend.headers, { code: referrer.code });
    const { bookingId } = await completeLesson(friend.userId, 9000);
    const refund = await inTransaction(api.database, (trx) => afterBookingRefunded(trx, { bookingId, now: clock.now() }));
    expect(refund.referralRewards.map((reward) => reward.previousStatus)).toEqual(['pending', 'pending']);
    expect((await rewardsOf(applied.body.id)).map((reward) => [reward.status, reward.voidReason])).toEqual([
      ['void', 'qualifying_lesson_refunded'],
      ['void', 'qualifying_lesson_refunded'],
    ]);
    clock.advance(8 * DAY_MS);
    await runUnlocker();
    expect((await getCreditBalance(api.database.db, referrer.userId, clock.now())).availableCents).toBe(0);

    await completeLesson(friend.userId, 9000);
    expect((await rewardsOf(applied.body.id)).filter((reward) => reward.status === 'pending')).toHaveLength(2);
  });

  it('the unlocker voids a reward whose lesson was refunded behind its back, and one that expired unpaid', async () => {
    const referrer = await referrerWithCode();
    const friend = await actingUser(api, 'student');
    const applied = await attribute(friend.headers, { code: referrer.code });
    const { bookingId } = await completeLesson(friend.userId, 9000);
    // a refund recorded on the booking without the credits hook (belt and braces)
    await api.database.db.updateTable('bookings').set({ status: 'cancelled' }).where('id', '=', bookingId).execute();
    const run = await runUnlocker();
    expect(run.voided).toBeGreaterThanOrEqual(1);
    expect((await rewardsOf(applied.body.id)).every((reward) => reward.status === 'void')).toBe(true);

    // An instructor referral whose referrer never connects payouts waits, then expires.
    const instructorReferrer = await referrerWithCode('instructor');
    const recruit = await newInstructor();
    const recruited = await attribute(recruit.headers, { code: instructorReferrer.code });
    const student = await actingUser(api, 'student');
    await completeLesson(student.userId, 9000, recruit.userId);
    clock.advance(8 * DAY_MS);
    await runUnlocker();
    expect((await rewardsOf(recruited.body.id)).map((reward) => [reward.status, reward.blockedReason])).toEqual([
      ['pending', 'referrer_has_no_payout_account'],
    ]);
    clock.advance(7 * 31 * DAY_MS);
    await runUnlocker();
    expect((await rewardsOf(recruited.body.id)).map((reward) => [reward.status, reward.voidReason])).toEqual([['void', 'expired']]);
  });
});

describe('instructor referrals', () => {
  it('pay the referrer $75 by transfer after the referred instructor’s first lesson, once, under referral-payout:{rewardId}:1', async () => {
    const referrer = await referrerWithCode('instructor');
    const accountId = await connectPayouts(referrer.userId);
    const recruit = await newInstructor();
    const applied = await attribute(recruit.headers, { code: referrer.code, deviceFingerprintHash: deviceHash() });
    expect(applied.body).toMatchObject({ status: 'attributed', kind: 'instructor' });

    const student = await actingUser(api, 'student');
    const first = await completeLesson(student.userId, 6000, recruit.userId);
    expect(first.outcome.referrals).toEqual([expect.objectContaining({ kind: 'instructor', outcome: 'qualified' })]);
    const [reward] = await rewardsOf(applied.body.id);
    expect(reward).toMatchObject({ role: 'referrer', kind: 'cash', amountCents: 7500, status: 'pending' });
    // the second lesson earns nothing more
    const another = await actingUser(api, 'student');
    expect((await completeLesson(another.userId, 6000, recruit.userId)).outcome.referrals).toEqual([]);

    clock.advance(7 * DAY_MS);
    const run = await runUnlocker();
    expect(run).toMatchObject({ paid: 1, failed: 0 });
    const paid = (await rewardsOf(applied.body.id))[0]!;
    expect(paid).toMatchObject({ status: 'paid', destinationAccountId: accountId, transferId: expect.stringMatching(/^tr_offline_/) });
    const operation = await api.database.db
      .selectFrom('paymentOperations')
      .selectAll()
      .where('idempotencyKey', '=', `referral-payout:${paid.id}:1`)
      .executeTakeFirstOrThrow();
    expect(operation).toMatchObject({
      purpose: 'referral-payout',
      status: 'succeeded',
      amountCents: 7500,
      providerObjectId: paid.transferId,
      userId: referrer.userId,
    });
    const transfer = await api.database.db
      .selectFrom('offlinePaymentObjects')
      .selectAll()
      .where('id', '=', paid.transferId!)
      .executeTakeFirstOrThrow();
    expect(transfer).toMatchObject({ kind: 'transfer', amountCents: 7500, parentId: accountId });
    expect(await runUnlocker()).toMatchObject({ paid: 0 });
    expect(
      await api.database.db
        .selectFrom('offlinePaymentObjects')
        .select('id')
        .where('kind', '=', 'transfer')
        .where('parentId', '=', accountId)
        .execute(),
    ).toHaveLength(1);
    expect((await auditRows(api.database, 'referral.payout')).some((row) => row.resourceId === paid.id)).toBe(true);
  });

  it('pay $50 once the platform has 100 founding instructors, after the referrer connects payouts', async () => {
    const foundingIds: string[] = [];
    const have = await api.database.db.selectFrom('instructorProfiles').select('userId').where('isFounding', '=', true).execute();
    for (let number = have.length + 1; number <= REFERRAL_CONFIG.instructor.foundingThreshold; number += 1) {
      const founder = await newInstructor();
      await api.database.db
        .updateTable('instructorProfiles')
        .set({ isFounding: true, foundingNumber: number })
        .where('userId', '=', founder.userId)
        .execute();
      foundingIds.push(founder.userId);
    }
    const referrer = await referrerWithCode('instructor');
    const recruit = await newInstructor();
    const applied = await attribute(recruit.headers, { code: referrer.code });
    const student = await actingUser(api, 'student');
    await completeLesson(student.userId, 6000, recruit.userId);
    expect((await rewardsOf(applied.body.id))[0]).toMatchObject({ kind: 'cash', amountCents: 5000 });

    clock.advance(7 * DAY_MS);
    await runUnlocker();
    expect((await rewardsOf(applied.body.id))[0]).toMatchObject({ status: 'pending', blockedReason: 'referrer_has_no_payout_account' });
    await connectPayouts(referrer.userId);
    expect(await runUnlocker()).toMatchObject({ paid: 1 });
    expect((await rewardsOf(applied.body.id))[0]).toMatchObject({ status: 'paid', blockedReason: null });

    await api.database.db
      .updateTable('instructorProfiles')
      .set({ isFounding: false, foundingNumber: null })
      .where('userId', 'in', foundingIds)
      .execute();
  });
});

describe('GET /api/v1/referrals/me', () => {
  it('gives each user one stable code', async () => {
    const user = await actingUser(api, 'student');
    const first = await api.request('/api/v1/referrals/me', { headers: user.headers });
    const second = await api.request('/api/v1/referrals/me', { headers: tokenHeaders(api, user.userId, ['student']) });
    expect(first.body.code).toMatch(/^[A-Z2-9]{8}$/);
    expect(second.body.code).toBe(first.body.code);
    expect((await api.request('/api/v1/referrals/me')).status).toBe(401);
  });
});
