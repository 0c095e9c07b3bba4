import { createHash, randomBytes } from 'node:crypto';
import { newId } from '@instainstru/db';
import { truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordAudit } from '../src/audit/record-audit.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { bearer } from './support/auth.ts';
import { BOOKING_TEST_ENV, tokenHeaders } from './support/bookings.ts';
import {
  createPerson,
  forgetOfferings,
  insertBookingPayment,
  insertLesson,
  insertOperation,
  insertPaymentMethod,
  insertWebhookEvent,
  type Party,
} from './support/payment-rows.ts';

/**
 * The read-only payment views, over rows shaped as migration 0005 defines them. One scene of
 * twelve bookings covers every payment status, both providers, a settlement of each kind that
 * moves money, failures and the manual-review queue; each test reads it through the real API.
 */

// Tuesday 2027-06-15 08:00 in New York
const NOW = '2027-06-15T12:00:00Z';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(Date.parse(NOW) + ms);
const clock = fixedClock(NOW);
const SERVICE_KEY = `ii_sk_${randomBytes(24).toString('base64url')}`;
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({
    clock,
    env: { ...BOOKING_TEST_ENV, SERVICE_KEYS: `mcp-dev:${createHash('sha256').update(SERVICE_KEY).digest('hex')}:ops:read admin:read` },
  });
});
afterAll(async () => {
  await api?.close();
});

interface Scene {
  sam: Party;
  olive: Party;
  ivy: Party;
  otto: Party;
  b: Record<string, string>;
  headers: {
    admin: Record<string, string>;
    sam: Record<string, string>;
    olive: Record<string, string>;
    ivy: Record<string, string>;
    otto: Record<string, string>;
  };
}
let scene: Scene;

async function event(bookingId: string, type: string, atTime: Date, data: Record<string, unknown> = {}, actorType = 'system') {
  await api.database.db
    .insertInto('bookingEvents')
    .values({ id: newId(atTime.getTime()), bookingId, type, actorType, actorId: null, data: JSON.stringify(data), at: atTime })
    .execute();
}

async function buildScene(): Promise<Scene> {
  const { database } = api;
  const sam = await createPerson(database, 'student', 'Sam', 'Student');
  const olive = await createPerson(database, 'student', 'Olive', 'Other');
  const ivy = await createPerson(database, 'instructor', 'Ivy', 'Instructor');
  const otto = await createPerson(database, 'instructor', 'Otto', 'Founder');
  await database.db
    .updateTable('instructorProfiles')
    .set({ isFounding: true, foundingNumber: 5, foundingGrantedAt: at(-300 * DAY), tierFeeBps: 800 })
    .where('userId', '=', otto.id)
    .execute();
  const samCard = await insertPaymentMethod(database, sam.id, { brand: 'visa', last4: '4242', provider: 'stripe' });
  const b: Record<string, string> = {};

  // B1 — Stripe, completed 3 days ago: LP $120 at 12%, $20 credits → card $114.40; captured, paid out.
  const start1 = at(-3 * DAY);
  b.charged = await insertLesson(database, {
    instructorId: ivy.id,
    studentId: sam.id,
    startsAt: start1,
    status: 'completed',
    paymentStatus: 'settled',
    feeBps: 1200,
  });
  const captured1 = at(-3 * DAY + 25 * HOUR);
  await insertBookingPayment(database, b.charged, {
    provider: 'stripe',
    creditsAppliedCents: 2000,
    paymentMethodId: samCard,
    authorizeAt: at(-4 * DAY),
    paymentIntentId: 'pi_3Charged',
    chargeId: 'ch_3Charged',
    authorizedAt: at(-4 * DAY + MINUTE),
    authorizationExpiresAt: at(-4 * DAY + 114 * HOUR),
    authAttempts: 1,
    capturedAt: captured1,
    capturedCents: 11_440,
    captureAttempts: 1,
    transferId: 'tr_3Charged',
    transferredCents: 10_560,
    transferredAt: captured1,
    settlementOutcome: 'completed',
    settlementInstructorPayoutCents: 10_560,
    settlementStudentCreditCents: 0,
    settledAt: captured1,
  });
  await event(b.charged, 'created', at(-6 * DAY), { lessonPriceCents: 12_000 }, 'user');
  await event(b.charged, 'payment.authorized', at(-4 * DAY + MINUTE));
  await event(b.charged, 'completed', at(-3 * DAY + HOUR));
  await event(b.charged, 'payment.captured', captured1);
  await insertOperation(database, {
    bookingId: b.charged,
    userId: sam.id,
    provider: 'stripe',
    purpose: 'authorize',
    amountCents: 11_440,
    providerObjectId: 'pi_3Charged',
    createdAt: at(-4 * DAY),
  });
  await insertOperation(database, {
    bookingId: b.charged,
    userId: sam.id,
    provider: 'stripe',
    purpose: 'capture',
    amountCents: 11_440,
    providerObjectId: 'pi_3Charged',
    createdAt: captured1,
  });
  await insertOperation(database, {
    bookingId: b.charged,
    userId: ivy.id,
    provider: 'stripe',
    purpose: 'transfer',
    amountCents: 10_560,
    providerObjectId: 'tr_3Charged',
    createdAt: at(-3 * DAY + 25 * HOUR + MINUTE),
  });
  await insertWebhookEvent(database, {
    id: 'evt_1',
    type: 'payment_intent.amount_capturable_updated',
    objectId: 'pi_3Charged',
    receivedAt: at(-4 * DAY + 2 * MINUTE),
  });
  await insertWebhookEvent(database, {
    id: 'evt_2',
    type: 'charge.captured',
    objectId: 'ch_3Charged',
    receivedAt: captured1,
    receiveCount: 2,
  });
  await insertWebhookEvent(database, {
    id: 'evt_3',
    type: 'transfer.created',
    objectId: 'tr_3Charged',
    receivedAt: at(-3 * DAY + 25 * HOUR + 2 * MINUTE),
    outcome: null,
  });
  await insertWebhookEvent(database, { id: 'evt_other', type: 'charge.captured', objectId: 'ch_someoneElse', receivedAt: captured1 });
  await recordAudit(
    database.db,
    { principal: { kind: 'user', userId: sam.id, roles: ['student'], permissions: new Set(), tokenId: null } },
    {
      action: 'booking.create',
      resourceType: 'booking',
      resourceId: b.charged,
      after: { lessonPriceCents: 12_000 },
    },
  );
  await database.db
    .updateTable('auditLog')
    .set({ at: at(-6 * DAY) })
    .where('resourceId', '=', b.charged)
    .execute();
  await database.db
    .insertInto('paymentMismatches')
    .values({
      id: newId(),
      bookingId: b.charged,
      kind: 'amount_differs',
      ours: JSON.stringify({ capturedCents: 11_440 }),
      theirs: JSON.stringify({ amount_received: 11_440 }),
      detectedAt: at(-DAY),
      resolvedAt: at(-DAY + HOUR),
      resolutionNote: 'rounding in an old test',
    })
    .execute();

  // B2 — Sam cancelled 6 h before the lesson 10 days ago: SF kept, 50% LP as credit, 50% P to Ivy.
  b.lateCancel = await insertLesson(database, {
    instructorId: ivy.id,
    studentId: sam.id,
    startsAt: at(-10 * DAY),
    status: 'cancelled',
    paymentStatus: 'settled',
  });
  await insertBookingPayment(database, b.lateCancel, {
    authorizedAt: at(-11 * DAY),
    capturedAt: at(-10 * DAY - 6 * HOUR),
    capturedCents: 13_440,
    transferredCents: 5_100,
    transferId: 'tr_offline_late',
    transferredAt: at(-10 * DAY - 6 * HOUR),
    settlementOutcome: 'very_late_split',
    settlementStudentCreditCents: 6_000,
    settlementInstructorPayoutCents: 5_100,
    settlementCardRefundCents: 0,
    settlementFeeKeptCents: 1_440,
    settledAt: at(-10 * DAY - 6 * HOUR),
  });
  await insertOperation(database, {
    bookingId: b.lateCancel,
    userId: sam.id,
    purpose: 'capture',
    amountCents: 13_440,
    providerObjectId: 'pi_offline_late',
    createdAt: at(-10 * DAY - 6 * HOUR),
  });
  await insertOperation(database, {
    bookingId: b.lateCancel,
    userId: ivy.id,
    purpose: 'transfer',
    amountCents: 5_100,
    providerObjectId: 'tr_offline_late',
    createdAt: at(-10 * DAY - 6 * HOUR + MINUTE),
  });

  // B3 — Olive's completed lesson whose capture failed for good: manual review, payout advanced.
  b.reviewCapture = await insertLesson(database, {
    instructorId: ivy.id,
    studentId: olive.id,
    startsAt: at(-5 * DAY),
    status: 'completed',
    paymentStatus: 'manual_review',
  });
  await insertBookingPayment(database, b.reviewCapture, {
    authorizedAt: at(-6 * DAY),
    captureAttempts: 5,
    captureFailedSince: at(-4 * DAY + HOUR),
    lastFailureCode: 'card_declined',
    lastFailureMessage: 'Your card was declined.',
    manualReviewReason: 'capture_failed',
    payoutAdvancedAt: at(-DAY),
    transferredCents: 10_200,
    transferId: 'tr_offline_advance',
    transferredAt: at(-DAY),
  });
  await event(b.reviewCapture, 'payment_manual_review', at(-DAY), { reason: 'capture_failed' });
  await insertOperation(database, {
    bookingId: b.reviewCapture,
    userId: olive.id,
    purpose: 'capture',
    amountCents: 13_440,
    status: 'failed',
    errorCode: 'card_declined',
    createdAt: at(-4 * DAY + HOUR),
  });
  await insertOperation(database, {
    bookingId: b.reviewCapture,
    userId: olive.id,
    purpose: 'capture',
    attempt: 2,
    amountCents: 13_440,
    status: 'failed',
    errorCode: 'card_declined',
    createdAt: at(-2 * DAY),
  });
  await insertOperation(database, {
    bookingId: b.reviewCapture,
    userId: ivy.id,
    purpose: 'advance-payout',
    amountCents: 10_200,
    providerObjectId: 'tr_offline_advance',
    createdAt: at(-DAY),
  });

  // B4 — Sam's lesson in 30 h: authorization due at +6 h.
  b.scheduled = await insertLesson(database, { instructorId: ivy.id, studentId: sam.id, startsAt: at(30 * HOUR) });
  await insertBookingPayment(database, b.scheduled, { paymentMethodId: samCard });
  // B5 — Olive's lesson ended 25 h ago, authorized, not captured: the capture is an hour overdue.
  b.captureDue = await insertLesson(database, {
    instructorId: ivy.id,
    studentId: olive.id,
    startsAt: at(-26 * HOUR),
    paymentStatus: 'authorized',
  });
  await insertBookingPayment(database, b.captureDue, { authorizedAt: at(-50 * HOUR), paymentIntentId: 'pi_offline_due' });
  // B6 — Sam's lesson in 20 h whose authorization failed; retry in an hour.
  b.retrying = await insertLesson(database, {
    instructorId: ivy.id,
    studentId: sam.id,
    startsAt: at(20 * HOUR),
    paymentStatus: 'payment_method_required',
  });
  await insertBookingPayment(database, b.retrying, {
    authAttempts: 1,
    nextAuthAttemptAt: at(HOUR),
    lastFailureCode: 'insufficient_funds',
    lastFailureMessage: 'Your card has insufficient funds.',
  });
  // B7 — Olive with Otto (founding, 8%): completed and paid.
  b.ottoPaid = await insertLesson(database, {
    instructorId: otto.id,
    studentId: olive.id,
    startsAt: at(-2 * DAY),
    status: 'completed',
    paymentStatus: 'settled',
    feeBps: 800,
  });
  await insertBookingPayment(database, b.ottoPaid, {
    capturedAt: at(-DAY + HOUR),
    capturedCents: 13_440,
    transferId: 'tr_offline_otto',
    transferredCents: 11_040,
    transferredAt: at(-DAY + HOUR),
    settlementOutcome: 'completed',
    settlementInstructorPayoutCents: 11_040,
    settledAt: at(-DAY + HOUR),
  });
  await insertOperation(database, {
    bookingId: b.ottoPaid,
    userId: otto.id,
    purpose: 'transfer',
    amountCents: 11_040,
    providerObjectId: 'tr_offline_otto',
    createdAt: at(-DAY + HOUR),
  });
  // B8 — Otto cancelled Sam's lesson after capture: full refund to the card.
  b.refunded = await insertLesson(database, {
    instructorId: otto.id,
    studentId: sam.id,
    startsAt: at(-4 * DAY),
    status: 'cancelled',
    paymentStatus: 'settled',
    feeBps: 800,
    cancelledBy: 'instructor',
  });
  await insertBookingPayment(database, b.refunded, {
    capturedAt: at(-5 * DAY),
    capturedCents: 13_440,
    refundedCents: 13_440,
    refundIds: ['re_offline_1'],
    settlementOutcome: 'full_refund',
    settlementCardRefundCents: 13_440,
    settlementInstructorPayoutCents: 0,
    settledAt: at(-4 * DAY - 2 * HOUR),
  });
  await insertOperation(database, {
    bookingId: b.refunded,
    userId: sam.id,
    purpose: 'refund',
    amountCents: 13_440,
    providerObjectId: 're_offline_1',
    createdAt: at(-4 * DAY - 2 * HOUR),
  });
  // B9 — Sam's lesson with Ivy 2 days ago: captured and settled, transfer failed so far (owed).
  b.owed = await insertLesson(database, {
    instructorId: ivy.id,
    studentId: sam.id,
    startsAt: at(-2 * DAY),
    status: 'completed',
    paymentStatus: 'settled',
  });
  await insertBookingPayment(database, b.owed, {
    capturedAt: at(-DAY + HOUR),
    capturedCents: 13_440,
    settlementOutcome: 'completed',
    settlementInstructorPayoutCents: 10_200,
    settledAt: at(-DAY + HOUR),
  });
  await insertOperation(database, {
    bookingId: b.owed,
    userId: ivy.id,
    purpose: 'transfer',
    amountCents: 10_200,
    status: 'failed',
    errorCode: 'account_invalid',
    createdAt: at(-DAY + 2 * HOUR),
  });
  // B10 — Sam reported Otto absent: frozen in manual review since the report.
  b.noShow = await insertLesson(database, {
    instructorId: otto.id,
    studentId: sam.id,
    startsAt: at(-6 * DAY),
    paymentStatus: 'manual_review',
    feeBps: 800,
  });
  await api.database.db
    .updateTable('bookings')
    .set({ noShowReportedAt: at(-6 * DAY + 30 * MINUTE) })
    .where('id', '=', b.noShow)
    .execute();
  await insertBookingPayment(database, b.noShow, { authorizedAt: at(-7 * DAY), noShowState: 'reported' });
  // B11 — Olive with Otto: in review for a failed reversal, last touched 7 days ago.
  b.reversal = await insertLesson(database, {
    instructorId: otto.id,
    studentId: olive.id,
    startsAt: at(-8 * DAY),
    paymentStatus: 'manual_review',
    feeBps: 800,
  });
  await insertBookingPayment(database, b.reversal, { manualReviewReason: 'transfer_reversal_failed', updatedAt: at(-7 * DAY) });
  // B12 — booked before payments existed: no payment record.
  b.legacy = await insertLesson(database, { instructorId: ivy.id, studentId: sam.id, startsAt: at(10 * DAY) });
  // B13 — Ivy's lesson in May: another earnings period.
  b.may = await insertLesson(database, {
    instructorId: ivy.id,
    studentId: olive.id,
    startsAt: new Date('2027-05-20T14:00:00Z'),
    status: 'completed',
    paymentStatus: 'settled',
  });
  await insertBookingPayment(database, b.may, {
    capturedCents: 13_440,
    capturedAt: new Date('2027-05-21T15:00:00Z'),
    transferredCents: 10_200,
    transferId: 'tr_offline_may',
    settlementOutcome: 'completed',
    settlementInstructorPayoutCents: 10_200,
    settledAt: new Date('2027-05-21T15:00:00Z'),
  });
  await insertOperation(database, {
    bookingId: b.may,
    userId: ivy.id,
    purpose: 'transfer',
    amountCents: 10_200,
    providerObjectId: 'tr_offline_may',
    createdAt: new Date('2027-05-21T15:01:00Z'),
  });
  // A referral payout to Ivy (no booking).
  await insertOperation(database, {
    userId: ivy.id,
    purpose: 'referral-payout',
    amountCents: 7_500,
    providerObjectId: 'tr_offline_referral',
    createdAt: at(-12 * HOUR),
    subjectId: 'referral-1',
  });

  const adminId = (await createPerson(database, 'student', 'Ada', 'Admin')).id;
  await database.db.insertInto('userRoles').values({ userId: adminId, role: 'admin' }).execute();
  return {
    sam,
    olive,
    ivy,
    otto,
    b,
    headers: {
      admin: tokenHeaders(api, adminId, ['admin']),
      sam: tokenHeaders(api, sam.id, ['student']),
      olive: tokenHeaders(api, olive.id, ['student']),
      ivy: tokenHeaders(api, ivy.id, ['instructor']),
      otto: tokenHeaders(api, otto.id, ['instructor']),
    },
  };
}

beforeAll(async () => {
  clock.set(NOW);
  forgetOfferings();
  await truncateAll(api.database);
  scene = await buildScene();
});
beforeEach(() => clock.set(NOW));

const get = (path: string, headers: Record<string, string>) => api.request(`/api/v1${path}`, { headers });

describe('GET /admin/payments/{bookingId}/timeline', () => {
  it('merges events, provider calls, webhooks about its objects, audit and reconciliation in time order, with the state and why the student paid', async () => {
    const { status, body } = await get(`/admin/payments/${scene.b.charged}/timeline`, scene.headers.admin);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      provider: 'stripe',
      offline: false,
      booking: {
        id: scene.b.charged,
        status: 'completed',
        paymentStatus: 'settled',
        student: { id: scene.sam.id, name: 'Sam Student' },
        instructor: { id: scene.ivy.id, name: 'Ivy Instructor' },
        amounts: {
          lessonPriceCents: 12_000,
          studentFeeCents: 1440,
          instructorFeeBps: 1200,
          instructorFeeCents: 1440,
          instructorPayoutCents: 10_560,
        },
      },
      payment: {
        provider: 'stripe',
        offline: false,
        cardAmountCents: 11_440,
        creditsAppliedCents: 2000,
        capturedCents: 11_440,
        transferredCents: 10_560,
        providerIds: {
          paymentIntentId: 'pi_3Charged',
          chargeId: 'ch_3Charged',
          transferId: 'tr_3Charged',
          reversalId: null,
          refundIds: [],
        },
        settlement: { outcome: 'completed', instructorPayoutCents: 10_560 },
      },
    });
    expect(body.explanation).toEqual([
      'Card amount $114.40 = lesson price $120.00 − credits $20.00 + booking-protection fee $14.40 (fee not coverable by credits).',
      `Card authorized on ${at(-4 * DAY + MINUTE).toISOString()} (payment intent pi_3Charged); the authorization lapses at ${at(-4 * DAY + 114 * HOUR).toISOString()}.`,
      `Captured $114.40 from the card on ${at(-3 * DAY + 25 * HOUR).toISOString()}.`,
      `Settled as completed on ${at(-3 * DAY + 25 * HOUR).toISOString()}: instructor payout $105.60.`,
      `Paid the instructor $105.60 by transfer tr_3Charged on ${at(-3 * DAY + 25 * HOUR).toISOString()}.`,
    ]);
    const entries = body.entries as Array<{ at: string; source: string; type: string; summary: string; details: Record<string, unknown> }>;
    expect(entries.map((entry) => `${entry.source}:${entry.type}`)).toEqual([
      'booking_event:created',
      'audit:booking.create',
      'payment_operation:authorize.succeeded',
      'booking_event:payment.authorized',
      'webhook_event:payment_intent.amount_capturable_updated',
      'booking_event:completed',
      'booking_event:payment.captured',
      'payment_operation:capture.succeeded',
      'webhook_event:charge.captured',
      'payment_operation:transfer.succeeded',
      'webhook_event:transfer.created',
      'mismatch:amount_differs',
    ]);
    expect([...entries.map((entry) => entry.at)].sort()).toEqual(entries.map((entry) => entry.at));
    const capture = entries.find((entry) => entry.type === 'capture.succeeded');
    expect(capture?.details).toMatchObject({
      idempotencyKey: `capture:${scene.b.charged}:1`,
      provider: 'stripe',
      offline: false,
      providerObjectId: 'pi_3Charged',
    });
    expect(entries.find((entry) => entry.type === 'charge.captured')?.summary).toBe(
      'Webhook charge.captured about ch_3Charged: applied (received 2 times)',
    );
    expect(entries.find((entry) => entry.type === 'transfer.created')?.summary).toContain('not processed yet');
    // nothing of other bookings' objects, and no secrets from request/response bodies
    expect(JSON.stringify(body)).not.toContain('ch_someoneElse');
    expect(JSON.stringify(body)).not.toContain('never_shown');
  });

  it('explains a late cancellation, a refund, a failing authorization and a booking without payment, each labelled offline', async () => {
    const late = await get(`/admin/payments/${scene.b.lateCancel}/timeline`, scene.headers.admin);
    expect(late.body).toMatchObject({
      provider: 'offline',
      offline: true,
      payment: { settlement: { outcome: 'very_late_split', studentCreditCents: 6000 } },
    });
    expect(late.body.explanation[0]).toBe(
      'Offline payment provider: the amounts are recorded, no real card was charged and no money moved.',
    );
    expect(late.body.explanation).toContain(
      `Settled as very_late_split on ${at(-10 * DAY - 6 * HOUR).toISOString()}: student credit $60.00, instructor payout $51.00, fee kept $14.40.`,
    );

    const refunded = await get(`/admin/payments/${scene.b.refunded}/timeline`, scene.headers.admin);
    expect(refunded.body.explanation).toContain('Refunded $134.40 to the card (re_offline_1).');

    const retrying = await get(`/admin/payments/${scene.b.retrying}/timeline`, scene.headers.admin);
    expect(retrying.body.explanation).toEqual(
      expect.arrayContaining([
        'Last failure after 1 authorization and 0 capture attempt(s): insufficient_funds ("Your card has insufficient funds.").',
        `Next authorization retry at ${at(HOUR).toISOString()}.`,
      ]),
    );

    const legacy = await get(`/admin/payments/${scene.b.legacy}/timeline`, scene.headers.admin);
    expect(legacy.body).toMatchObject({ provider: 'offline', offline: true, payment: null, entries: [] });
    expect(legacy.body.explanation).toContain(
      'No payment was set up for this booking (payment status scheduled); lesson price $120.00 + fee $14.40 were only quoted.',
    );
  });

  it('is for payments:read:any only: 404 for an unknown booking, 403 for students and instructors, open to the copilot’s admin:read', async () => {
    expect((await get(`/admin/payments/${newId()}/timeline`, scene.headers.admin)).status).toBe(404);
    expect((await get(`/admin/payments/${scene.b.charged}/timeline`, scene.headers.sam)).status).toBe(403);
    expect((await get(`/admin/payments/${scene.b.charged}/timeline`, scene.headers.ivy)).status).toBe(403);
    const copilot = await get(`/admin/payments/${scene.b.charged}/timeline`, bearer(SERVICE_KEY));
    expect(copilot.status).toBe(200);
    expect(copilot.body.booking.id).toBe(scene.b.charged);
  });
});

describe('GET /admin/payments/pipeline', () => {
  it('counts and sums per payment status and provider, and shows what is due, retrying, in review and owed', async () => {
    const { status, body } = await get('/admin/payments/pipeline', scene.headers.admin);
    expect(status).toBe(200);
    expect(body).toMatchObject({ provider: 'offline', offline: true, at: NOW.replace('Z', '.000Z') });
    const byStatus = Object.fromEntries(
      body.byStatus.map((row: { paymentStatus: string; count: number }) => [row.paymentStatus, row.count]),
    );
    // the default window (±30 days) holds all 13 bookings
    expect(byStatus).toEqual({ scheduled: 2, authorized: 1, locked: 0, settled: 6, payment_method_required: 1, manual_review: 3 });
    expect(body.byStatus.find((row: { paymentStatus: string }) => row.paymentStatus === 'settled')).toMatchObject({
      lessonPriceCents: 72_000,
      capturedCents: 11_440 + 13_440 * 5,
      refundedCents: 13_440,
    });
    expect(body.byProvider).toEqual([
      { provider: 'stripe', offline: false, count: 1, cardAmountCents: 11_440 },
      { provider: 'offline', offline: true, count: 11, cardAmountCents: 13_440 * 11 },
      { provider: 'none', offline: false, count: 1, cardAmountCents: 0 },
    ]);
    expect(body.authorizationsDue).toEqual({ count: 1, overdue: 0, amountCents: 13_440, nextAt: at(6 * HOUR).toISOString() });
    expect(body.capturesDue).toEqual({ count: 1, overdue: 1, amountCents: 13_440, nextAt: at(-HOUR).toISOString() });
    expect(body.failuresInRetry.authorizations).toEqual({ count: 1, overdue: 0, amountCents: 13_440, nextAt: at(HOUR).toISOString() });
    expect(body.failuresInRetry.captures).toMatchObject({ count: 0 });
    expect(body.manualReview).toEqual({ count: 3, amountCents: 13_440 * 3 });
    expect(body.transfersOwed).toEqual({ count: 1, amountCents: 10_200 });
  });

  it('takes a window, refuses a bad one, and is admin-only', async () => {
    const may = await get(`/admin/payments/pipeline?from=2027-05-01T00:00:00Z&to=2027-06-01T00:00:00Z`, scene.headers.admin);
    expect(may.status).toBe(200);
    expect(may.body.window).toEqual({ from: '2027-05-01T00:00:00.000Z', to: '2027-06-01T00:00:00.000Z' });
    expect(may.body.byStatus.reduce((total: number, row: { count: number }) => total + row.count, 0)).toBe(1);
    const inverted = await get(`/admin/payments/pipeline?from=2027-06-01T00:00:00Z&to=2027-05-01T00:00:00Z`, scene.headers.admin);
    expect(inverted.status).toBe(422);
    expect(inverted.body.field).toBe('to');
    expect((await get('/admin/payments/pipeline?window=7d', scene.headers.admin)).status).toBe(422);
    expect((await get('/admin/payments/pipeline', scene.headers.ivy)).status).toBe(403);
    expect((await get('/admin/payments/pipeline', scene.headers.sam)).status).toBe(403);
  });
});

describe('GET /admin/payments/manual-review', () => {
  it('lists the queue oldest first with reason, since, amounts and names, page by page', async () => {
    const first = await get('/admin/payments/manual-review?limit=2', scene.headers.admin);
    expect(first.status).toBe(200);
    expect(first.body.items.map((item: { bookingId: string }) => item.bookingId)).toEqual([scene.b.reversal, scene.b.noShow]);
    expect(first.body.items[0]).toMatchObject({
      reason: 'transfer_reversal_failed',
      since: at(-7 * DAY).toISOString(),
      provider: 'offline',
      offline: true,
    });
    expect(first.body.items[1]).toMatchObject({
      reason: 'no_show_reported',
      since: at(-6 * DAY + 30 * MINUTE).toISOString(),
      noShowState: 'reported',
      student: { id: scene.sam.id, name: 'Sam Student' },
      instructor: { id: scene.otto.id, name: 'Otto Founder' },
    });
    expect(first.body.nextCursor).toBeTruthy();
    const second = await get(`/admin/payments/manual-review?limit=2&cursor=${first.body.nextCursor}`, scene.headers.admin);
    expect(second.body.nextCursor).toBeNull();
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0]).toMatchObject({
      bookingId: scene.b.reviewCapture,
      reason: 'capture_failed',
      since: at(-DAY).toISOString(),
      bookingStatus: 'completed',
      serviceName: 'Piano',
      student: { name: 'Olive Other' },
      amounts: { lessonPriceCents: 12_000, cardAmountCents: 13_440, capturedCents: 0, transferredCents: 10_200 },
      payoutAdvancedAt: at(-DAY).toISOString(),
      lastFailure: { code: 'card_declined', message: 'Your card was declined.' },
    });
    expect((await get('/admin/payments/manual-review?cursor=nonsense', scene.headers.admin)).status).toBe(422);
    expect((await get('/admin/payments/manual-review', scene.headers.otto)).status).toBe(403);
  });
});

describe('GET /admin/payments/operations', () => {
  const ids = (body: { items: Array<{ purpose: string; bookingId: string | null }> }) =>
    body.items.map((item) => `${item.purpose}:${item.bookingId}`);

  it('filters by booking, purpose and status, user (either party) and date range, newest first, without request bodies', async () => {
    const byBooking = await get(`/admin/payments/operations?bookingId=${scene.b.charged}`, scene.headers.admin);
    expect(byBooking.status).toBe(200);
    expect(ids(byBooking.body)).toEqual([`transfer:${scene.b.charged}`, `capture:${scene.b.charged}`, `authorize:${scene.b.charged}`]);
    expect(byBooking.body.items[0]).toMatchObject({
      provider: 'stripe',
      offline: false,
      providerObjectId: 'tr_3Charged',
      idempotencyKey: `transfer:${scene.b.charged}:1`,
      studentId: scene.sam.id,
      instructorId: scene.ivy.id,
    });
    expect(JSON.stringify(byBooking.body)).not.toContain('never_shown');

    const failedCaptures = await get('/admin/payments/operations?purpose=capture&status=failed', scene.headers.admin);
    expect(failedCaptures.body.items.map((item: { attempt: number; errorCode: string }) => [item.attempt, item.errorCode])).toEqual([
      [2, 'card_declined'],
      [1, 'card_declined'],
    ]);

    const otto = await get(`/admin/payments/operations?userId=${scene.otto.id}`, scene.headers.admin);
    expect(ids(otto.body)).toEqual([`transfer:${scene.b.ottoPaid}`, `refund:${scene.b.refunded}`]);

    // from inclusive, to exclusive: B3's second capture attempt at −2d and B1's capture at −2d+1h
    const window = await get(
      `/admin/payments/operations?from=${at(-2 * DAY).toISOString()}&to=${at(-2 * DAY + HOUR + 1000).toISOString()}`,
      scene.headers.admin,
    );
    expect(ids(window.body)).toEqual([`capture:${scene.b.charged}`, `capture:${scene.b.reviewCapture}`]);
    const exclusive = await get(
      `/admin/payments/operations?from=${at(-2 * DAY).toISOString()}&to=${at(-2 * DAY + HOUR).toISOString()}`,
      scene.headers.admin,
    );
    expect(ids(exclusive.body)).toEqual([`capture:${scene.b.reviewCapture}`]);
  });

  it('pages through everything with an opaque cursor and is admin-only', async () => {
    const seen: string[] = [];
    const times: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: Array<{ id: string; createdAt: string }>; nextCursor: string | null } } = await get(
        `/admin/payments/operations?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
        scene.headers.admin,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((item) => item.id));
      times.push(...page.body.items.map((item) => item.createdAt));
      cursor = page.body.nextCursor;
    } while (cursor);
    const total = await api.database.db
      .selectFrom('paymentOperations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(seen).toHaveLength(Number(total.n));
    expect(new Set(seen).size).toBe(seen.length);
    expect([...times].sort().reverse()).toEqual(times);
    expect((await get('/admin/payments/operations', scene.headers.sam)).status).toBe(403);
    expect((await get('/admin/payments/operations?status=lost', scene.headers.admin)).status).toBe(422);
  });
});

describe('student receipts', () => {
  it('lists only your own receipts, latest lesson first, with price, fee, credits, card charged, refunds and credit returned', async () => {
    const receipts: Array<Record<string, any>> = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: Array<Record<string, any>>; nextCursor: string | null } } = await get(
        `/payments/receipts?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        scene.headers.sam,
      );
      expect(page.status).toBe(200);
      receipts.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    const { b } = scene;
    expect(receipts.map((receipt) => [receipt.bookingId, receipt.state])).toEqual([
      [b.scheduled, 'scheduled'],
      [b.retrying, 'payment_method_required'],
      [b.owed, 'charged'],
      [b.charged, 'charged'],
      [b.refunded, 'refunded'],
      [b.noShow, 'in_review'],
      [b.lateCancel, 'charged'],
    ]);
    expect(receipts[3]).toEqual({
      provider: 'stripe',
      offline: false,
      bookingId: b.charged,
      serviceName: 'Piano',
      instructorName: 'Ivy I.',
      startsAt: at(-3 * DAY).toISOString(),
      durationMinutes: 60,
      bookingStatus: 'completed',
      paymentStatus: 'settled',
      state: 'charged',
      lessonPriceCents: 12_000,
      studentFeeCents: 1440,
      creditsAppliedCents: 2000,
      cardAmountCents: 11_440,
      cardChargedCents: 11_440,
      cardRefundedCents: 0,
      cardNetCents: 11_440,
      creditReturnedCents: 0,
      card: { brand: 'visa', last4: '4242' },
      authorizedAt: at(-4 * DAY + MINUTE).toISOString(),
      chargedAt: at(-3 * DAY + 25 * HOUR).toISOString(),
      settlement: { outcome: 'completed', settledAt: at(-3 * DAY + 25 * HOUR).toISOString() },
    });
    expect(receipts[6]).toMatchObject({
      provider: 'offline',
      offline: true,
      cardChargedCents: 13_440,
      creditReturnedCents: 6000,
      cardNetCents: 13_440,
    });
    expect(receipts[4]).toMatchObject({ cardChargedCents: 13_440, cardRefundedCents: 13_440, cardNetCents: 0, instructorName: 'Otto F.' });
  });

  it('answers 404 for another student’s booking exactly as for a missing one; instructors have no receipts route', async () => {
    const mine = await get(`/payments/receipts/${scene.b.charged}`, scene.headers.sam);
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ bookingId: scene.b.charged, cardAmountCents: 11_440 });
    const theirs = await get(`/payments/receipts/${scene.b.reviewCapture}`, scene.headers.sam);
    const missing = await get(`/payments/receipts/${newId()}`, scene.headers.sam);
    expect(theirs.status).toBe(404);
    expect(theirs.body).toEqual(missing.body);
    expect((await get(`/payments/receipts/${scene.b.charged}`, scene.headers.olive)).status).toBe(404);
    const oliveList = await get('/payments/receipts', scene.headers.olive);
    expect(oliveList.body.items.map((item: { bookingId: string }) => item.bookingId)).not.toContain(scene.b.charged);
    expect((await get('/payments/receipts', scene.headers.ivy)).status).toBe(403);
    expect((await api.request('/api/v1/payments/receipts')).status).toBe(401);
  });
});

describe('instructor earnings and transfers', () => {
  it('shows your earnings per month — lessons, gross, fee, net, paid and pending — and your tier', async () => {
    const { status, body } = await get('/payouts/earnings', scene.headers.ivy);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      provider: 'offline',
      offline: true,
      instructorId: scene.ivy.id,
      period: 'month',
      window: { from: '2027-01-01T05:00:00.000Z', to: '2027-07-01T04:00:00.000Z' },
    });
    expect(body.periods).toEqual([
      {
        periodStart: '2027-06-01',
        // B1 (12%), B3 and B9 (15%) taught; B2 a late cancellation paying 50% of P
        lessons: 3,
        grossLessonPriceCents: 36_000,
        platformFeeCents: 1440 + 1800 + 1800,
        netPayoutCents: 10_560 + 10_200 + 10_200 + 5_100,
        cancellationPayoutCents: 5_100,
        paidCents: 10_560 + 10_200 + 5_100,
        pendingCents: 10_200,
      },
      {
        periodStart: '2027-05-01',
        lessons: 1,
        grossLessonPriceCents: 12_000,
        platformFeeCents: 1800,
        netPayoutCents: 10_200,
        cancellationPayoutCents: 0,
        paidCents: 10_200,
        pendingCents: 0,
      },
    ]);
    expect(body.totals).toMatchObject({ lessons: 4, netPayoutCents: 46_260, paidCents: 36_060, pendingCents: 10_200 });
    // four completed lessons ended in the last 30 days (B1, B3, B9, B13): 15%, one more for 12%
    expect(body.tier).toMatchObject({
      feeBps: 1500,
      isFounding: false,
      foundingNumber: null,
      foundingFeeBps: 800,
      completedLessonsLast30Days: 4,
      status: 'unchanged',
      nextTier: { feeBps: 1200, lessonsNeeded: 1 },
    });
    expect(body.tier.lastLessonAt).toBe(at(-2 * DAY + HOUR).toISOString());

    const weekly = await get('/payouts/earnings?period=week', scene.headers.ivy);
    expect(weekly.body.periods.map((line: { periodStart: string }) => line.periodStart)).toEqual([
      '2027-06-07',
      '2027-05-31',
      '2027-05-17',
    ]);
  });

  it('shows a founding instructor only their own numbers, at 8% for life', async () => {
    const { body } = await get('/payouts/earnings', scene.headers.otto);
    expect(body.periods).toEqual([
      {
        periodStart: '2027-06-01',
        lessons: 1,
        grossLessonPriceCents: 12_000,
        platformFeeCents: 960,
        netPayoutCents: 11_040,
        cancellationPayoutCents: 0,
        paidCents: 11_040,
        pendingCents: 0,
      },
    ]);
    expect(body.tier).toMatchObject({ feeBps: 800, isFounding: true, foundingNumber: 5, status: 'founding', nextTier: null });
    expect((await get('/payouts/earnings', scene.headers.sam)).status).toBe(403);
    expect((await get('/payouts/earnings?period=year', scene.headers.ivy)).status).toBe(422);
  });

  it('lists the money sent to you, newest first, without failed calls or other instructors’ transfers', async () => {
    const items: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: Array<Record<string, unknown>>; nextCursor: string | null } } = await get(
        `/payouts/transfers?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        scene.headers.ivy,
      );
      expect(page.status).toBe(200);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(items.map((item) => [item.kind, item.transferId, item.amountCents])).toEqual([
      ['referral-payout', 'tr_offline_referral', 7_500],
      ['advance-payout', 'tr_offline_advance', 10_200],
      ['transfer', 'tr_3Charged', 10_560],
      ['transfer', 'tr_offline_late', 5_100],
      ['transfer', 'tr_offline_may', 10_200],
    ]);
    expect(items[2]).toMatchObject({
      provider: 'stripe',
      offline: false,
      bookingId: scene.b.charged,
      serviceName: 'Piano',
      status: 'succeeded',
    });
    const otto = await get('/payouts/transfers', scene.headers.otto);
    expect(otto.body.items.map((item: { transferId: string }) => item.transferId)).toEqual(['tr_offline_otto']);
    expect((await get('/payouts/transfers', scene.headers.olive)).status).toBe(403);
  });
});
