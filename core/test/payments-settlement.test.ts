import { truncateAll } from '@instainstru/db/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../src/shared/clock.ts';
import type { TestApi } from './support/api.ts';
import { actingUser } from './support/bookings.ts';
import { bookPaidLesson, creditOf, key, type Lesson, moneyOf, runJob, startPaymentsApi, sweep } from './support/payment-lifecycle.ts';
import { startStripeFake, type StripeFake } from './support/stripe-fake.ts';

// Tuesday 2027-03-02 10:00 New York. The lesson: Thursday 2027-03-04 15:00Z–16:00Z (T). A late
// reschedule moves it to Friday 2027-03-05 18:00Z (T').
const NOW = '2027-03-02T15:00:00Z';
const DAYS = ['2027-03-04', '2027-03-05', '2027-03-06'];
const START = '2027-03-04T15:00:00Z';
const MOVED = '2027-03-05T18:00:00Z';
const H = 3_600_000;
const T = new Date(START).getTime();
const T2 = new Date(MOVED).getTime();
const before = (hours: number, extraMs = 0) => new Date(T - hours * H + extraMs);
const beforeMoved = (hours: number, extraMs = 0) => new Date(T2 - hours * H + extraMs);

type Actor = 'student' | 'instructor' | 'admin';

interface Cell {
  name: string;
  /** Price of the lesson (default LP $120 at the 12% tier). */
  price?: { hourlyRateCents: number; durationMinutes: number; tierFeeBps?: number; isFounding?: boolean };
  creditCents?: number;
  /** Run the T−24h authorization before cancelling. */
  authorized?: boolean;
  /** Reschedule late (LOCK) at T−20h to T'. */
  locked?: boolean;
  cancelAt: Date;
  actor: Actor;
  expect: {
    outcome: string;
    capturedCents: number;
    refundedCents: number;
    /** The student's available credit afterwards. */
    creditCents: number;
    transferredCents: number;
    feeKeptCents: number;
    /** The PaymentIntent at the provider afterwards ('none': never made). */
    intent: 'none' | 'canceled' | 'succeeded';
  };
}

// LP $120 at 12%: SF $14.40, IF $14.40, P $105.60; card $134.40 ($114.40 with $20 of credit)
const CELLS: Cell[] = [
  {
    name: 'student, t ≥ 24h (exactly 24h, authorization just made): authorization released, reserved credits released, instructor $0',
    creditCents: 2000,
    authorized: true,
    cancelAt: before(24),
    actor: 'student',
    expect: {
      outcome: 'released',
      capturedCents: 0,
      refundedCents: 0,
      creditCents: 2000,
      transferredCents: 0,
      feeKeptCents: 0,
      intent: 'canceled',
    },
  },
  {
    name: 'student, t ≥ 24h (two days, never authorized): nothing to release at the provider',
    creditCents: 2000,
    cancelAt: before(47),
    actor: 'student',
    expect: {
      outcome: 'released',
      capturedCents: 0,
      refundedCents: 0,
      creditCents: 2000,
      transferredCents: 0,
      feeKeptCents: 0,
      intent: 'none',
    },
  },
  {
    name: 'student, 12h ≤ t < 24h (1 ms under 24h): captured, SF kept, 100% of LP as credit ($20 released + $100 issued), instructor $0',
    creditCents: 2000,
    authorized: true,
    cancelAt: before(24, 1),
    actor: 'student',
    expect: {
      outcome: 'late_credit',
      capturedCents: 11_440,
      refundedCents: 0,
      creditCents: 12_000,
      transferredCents: 0,
      feeKeptCents: 1440,
      intent: 'succeeded',
    },
  },
  {
    name: 'student, 12h ≤ t < 24h (exactly 12h): captured, SF kept, 100% of LP as credit',
    authorized: true,
    cancelAt: before(12),
    actor: 'student',
    expect: {
      outcome: 'late_credit',
      capturedCents: 13_440,
      refundedCents: 0,
      creditCents: 12_000,
      transferredCents: 0,
      feeKeptCents: 1440,
      intent: 'succeeded',
    },
  },
  {
    name: 'student, 12h ≤ t < 24h, not authorized yet (the T−24h job had not run): authorized and captured at the cancellation',
    creditCents: 2000,
    cancelAt: before(23),
    actor: 'student',
    expect: {
      outcome: 'late_credit',
      capturedCents: 11_440,
      refundedCents: 0,
      creditCents: 12_000,
      transferredCents: 0,
      feeKeptCents: 1440,
      intent: 'succeeded',
    },
  },
  {
    name: 'student, t < 12h (1 ms under 12h): captured, SF kept, 50% of LP as credit, 50% of P to the instructor',
    authorized: true,
    cancelAt: before(12, 1),
    actor: 'student',
    expect: {
      outcome: 'very_late_split',
      capturedCents: 13_440,
      refundedCents: 0,
      creditCents: 6000,
      transferredCents: 5280,
      feeKeptCents: 1440,
      intent: 'succeeded',
    },
  },
  {
    name: 'student, t < 12h with $80 of credit: half of LP comes back ($60 of the reservation released, $20 of it spent), card $54.40',
    creditCents: 8000,
    authorized: true,
    cancelAt: before(2),
    actor: 'student',
    expect: {
      outcome: 'very_late_split',
      capturedCents: 5440,
      refundedCents: 0,
      creditCents: 6000,
      transferredCents: 5280,
      feeKeptCents: 1440,
      intent: 'succeeded',
    },
  },
  {
    name: 'locked booking, ≥ 12h before the new start (exactly 12h): 100% of LP as credit, nothing more charged, instructor $0',
    authorized: true,
    locked: true,
    cancelAt: beforeMoved(12),
    actor: 'student',
    expect: {
      outcome: 'locked_credit',
      capturedCents: 13_440,
      refundedCents: 0,
      creditCents: 12_000,
      transferredCents: 0,
      feeKeptCents: 1440,
      intent: 'succeeded',
    },
  },
  {
    name: 'locked booking (still scheduled when locked: authorized then captured), < 12h before the new start: 50% of LP as credit, 50% of P',
    locked: true,
    cancelAt: beforeMoved(12, 1),
    actor: 'student',
    expect: {
      outcome: 'locked_split',
      capturedCents: 13_440,
      refundedCents: 0,
      creditCents: 6000,
      transferredCents: 5280,
      feeKeptCents: 1440,
      intent: 'succeeded',
    },
  },
  {
    name: 'instructor cancels (10 h before): full release including SF, reserved credits released, instructor $0',
    creditCents: 2000,
    authorized: true,
    cancelAt: before(10),
    actor: 'instructor',
    expect: {
      outcome: 'full_refund',
      capturedCents: 0,
      refundedCents: 0,
      creditCents: 2000,
      transferredCents: 0,
      feeKeptCents: 0,
      intent: 'canceled',
    },
  },
  {
    name: 'instructor cancels a locked (captured) booking: full refund to the card including SF',
    creditCents: 2000,
    authorized: true,
    locked: true,
    cancelAt: beforeMoved(3),
    actor: 'instructor',
    expect: {
      outcome: 'full_refund',
      capturedCents: 11_440,
      refundedCents: 11_440,
      creditCents: 2000,
      transferredCents: 0,
      feeKeptCents: 0,
      intent: 'succeeded',
    },
  },
  {
    name: 'an admin cancels on the platform’s account (1 h before): full refund, like the instructor',
    authorized: true,
    cancelAt: before(1),
    actor: 'admin',
    expect: {
      outcome: 'full_refund',
      capturedCents: 0,
      refundedCents: 0,
      creditCents: 0,
      transferredCents: 0,
      feeKeptCents: 0,
      intent: 'canceled',
    },
  },
  {
    name: 'odd cents: LP $45.55 (30 min at $91.10/h, 15%): SF $5.47, P $38.72; < 12h gives $22.78 credit and $19.36 to the instructor',
    price: { hourlyRateCents: 9110, durationMinutes: 30, tierFeeBps: 1500 },
    authorized: true,
    cancelAt: before(3),
    actor: 'student',
    expect: {
      outcome: 'very_late_split',
      capturedCents: 5102,
      refundedCents: 0,
      creditCents: 2278,
      transferredCents: 1936,
      feeKeptCents: 547,
      intent: 'succeeded',
    },
  },
  {
    name: 'founding 8%: LP $45.55: IF $3.64, P $41.91; < 12h sends $20.96 to the instructor',
    price: { hourlyRateCents: 9110, durationMinutes: 30, isFounding: true },
    authorized: true,
    cancelAt: before(3),
    actor: 'student',
    expect: {
      outcome: 'very_late_split',
      capturedCents: 5102,
      refundedCents: 0,
      creditCents: 2278,
      transferredCents: 2096,
      feeKeptCents: 547,
      intent: 'succeeded',
    },
  },
];

describe.each(['offline', 'stripe'] as const)('cancellation settlement, every cell of the table (%s provider)', (providerName) => {
  const clock = fixedClock(NOW);
  let api: TestApi;
  let fake: StripeFake | undefined;
  let admin: { userId: string; headers: Record<string, string> };

  beforeAll(async () => {
    if (providerName === 'stripe') fake = await startStripeFake({ clock });
    api = await startPaymentsApi({ clock, stripe: fake });
  });
  afterAll(async () => {
    await api?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    clock.set(NOW);
    fake?.reset();
    await sql`delete from pgboss.job`.execute(api.database.db);
    await truncateAll(api.database);
    admin = await actingUser(api, 'admin');
  });

  async function intentStatus(paymentIntentId: string | null): Promise<string> {
    if (!paymentIntentId) return 'none';
    if (fake) return fake.state.paymentIntents.get(paymentIntentId)!.status as string;
    const row = await api.database.db
      .selectFrom('offlinePaymentObjects')
      .select('status')
      .where('id', '=', paymentIntentId)
      .executeTakeFirstOrThrow();
    return row.status;
  }

  async function prepare(cell: Pick<Cell, 'price' | 'creditCents' | 'authorized' | 'locked'>): Promise<Lesson> {
    const lesson = await bookPaidLesson(api, {
      startsAt: START,
      days: DAYS,
      stripe: fake,
      hourlyRateCents: cell.price?.hourlyRateCents ?? 12_000,
      durationMinutes: cell.price?.durationMinutes ?? 60,
      ...(cell.price?.isFounding ? { isFounding: true } : { tierFeeBps: cell.price?.tierFeeBps ?? 1200 }),
      ...(cell.creditCents ? { creditCents: cell.creditCents } : {}),
    });
    expect(lesson.checkout.status).toBe(200);
    if (cell.authorized) {
      clock.set(before(24));
      await sweep(api, 'payments.authorization-sweep');
      expect((await moneyOf(api, lesson.bookingId)).booking.paymentStatus).toBe('authorized');
    }
    if (cell.locked) {
      clock.set(before(20));
      const moved = await api.request(`/api/v1/bookings/${lesson.bookingId}/reschedule`, {
        method: 'POST',
        json: { startsAt: MOVED },
        headers: lesson.studentHeaders,
      });
      expect(moved.status).toBe(200);
      const locked = await moneyOf(api, lesson.bookingId);
      // LOCK: captured at once, nothing transferred
      expect(locked.booking).toMatchObject({
        paymentStatus: 'locked',
        lateRescheduleUsed: true,
        lockedAt: before(20),
        originalStartsAt: new Date(START),
      });
      expect(locked.payment.capturedCents).toBe(locked.payment.cardAmountCents);
      expect(locked.payment.transferredCents).toBe(0);
    }
    return lesson;
  }

  it.each(CELLS)('$name', async (cell) => {
    const lesson = await prepare(cell);
    const quoteHeaders =
      cell.actor === 'student' ? lesson.studentHeaders : cell.actor === 'instructor' ? lesson.instructorHeaders : admin.headers;
    clock.set(cell.cancelAt);
    const quote = await api.request(`/api/v1/bookings/${lesson.bookingId}/cancellation-quote`, { headers: quoteHeaders });
    expect(quote.body.outcome).toBe(cell.expect.outcome);
    const cancelled = await api.request(`/api/v1/bookings/${lesson.bookingId}/cancel`, { method: 'POST', json: {}, headers: quoteHeaders });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.quote).toEqual(quote.body);

    const money = await moneyOf(api, lesson.bookingId);
    expect(money.booking).toMatchObject({ status: 'cancelled', paymentStatus: 'settled' });
    expect(money.payment).toMatchObject({
      settlementOutcome: cell.expect.outcome,
      settlementStudentCreditCents: quote.body.studentCreditCents,
      settlementInstructorPayoutCents: quote.body.instructorPayoutCents,
      settlementCardRefundCents: cell.expect.refundedCents,
      settlementFeeKeptCents: cell.expect.feeKeptCents,
      capturedCents: cell.expect.capturedCents,
      refundedCents: cell.expect.refundedCents,
      transferredCents: cell.expect.transferredCents,
      settlementQuote: quote.body,
    });
    expect(await creditOf(api, lesson.studentId)).toEqual({ availableCents: cell.expect.creditCents, reservedCents: 0 });
    expect(await intentStatus(money.payment.paymentIntentId)).toBe(cell.expect.intent);
    if (cell.expect.transferredCents > 0) {
      expect(money.operations.at(-1)).toMatchObject({ idempotencyKey: `transfer:${lesson.bookingId}:1`, status: 'succeeded' });
    }
    // every provider call completed, each under its own key, and settling again changes nothing
    expect(money.operations.every((operation) => operation.status === 'succeeded')).toBe(true);
    expect(new Set(money.operations.map((operation) => operation.idempotencyKey)).size).toBe(money.operations.length);
    expect((await runJob(api, 'payments.settle-booking', { bookingId: lesson.bookingId })).steps).toEqual([]);
    expect((await moneyOf(api, lesson.bookingId)).operations).toHaveLength(money.operations.length);
    expect(money.events).toContain('payment_settled');
  });

  describe('no-show reports', () => {
    /** The lesson authorized at T−24h, then reported 30 minutes in. */
    async function reported(creditCents = 2000): Promise<Lesson> {
      const lesson = await prepare({ authorized: true, creditCents });
      clock.set(new Date(T + 30 * 60_000));
      const report = await api.request(`/api/v1/bookings/${lesson.bookingId}/no-show`, {
        method: 'POST',
        json: { reason: 'Nobody came' },
        headers: lesson.studentHeaders,
      });
      expect(report.status).toBe(200);
      const money = await moneyOf(api, lesson.bookingId);
      expect(money.booking).toMatchObject({ status: 'no_show', paymentStatus: 'manual_review' });
      expect(money.payment).toMatchObject({ noShowState: 'reported', noShowDisputeDeadlineAt: new Date(T + 30 * 60_000 + 24 * H) });
      return lesson;
    }

    it('confirmed instructor no-show (not disputed within 24 h): frozen meanwhile, then a full refund and credits released', async () => {
      const lesson = await reported();
      clock.set(new Date(T + 30 * 60_000 + 24 * H - 1));
      expect((await runJob(api, 'payments.no-show-deadline', { bookingId: lesson.bookingId })).steps).toEqual(['frozen_no_show']);
      clock.set(new Date(T + 30 * 60_000 + 24 * H));
      const settled = await runJob(api, 'payments.no-show-deadline', { bookingId: lesson.bookingId });
      expect(settled.steps).toEqual(['no_show_confirmed', 'authorization_released', 'settled:no_show_refund']);
      const money = await moneyOf(api, lesson.bookingId);
      expect(money.booking).toMatchObject({ status: 'no_show', paymentStatus: 'settled' });
      expect(money.payment).toMatchObject({
        noShowState: 'confirmed',
        settlementOutcome: 'no_show_refund',
        capturedCents: 0,
        transferredCents: 0,
      });
      expect(await intentStatus(money.payment.paymentIntentId)).toBe('canceled');
      expect(await creditOf(api, lesson.studentId)).toEqual({ availableCents: 2000, reservedCents: 0 });
    });

    it('the student wins a dispute: the instructor disputes within 24 h, an admin confirms the no-show → full refund', async () => {
      const lesson = await reported();
      clock.set(new Date(T + 2 * H));
      const dispute = await api.request(`/api/v1/bookings/${lesson.bookingId}/no-show/dispute`, {
        method: 'POST',
        json: { reason: 'I was there, the student was not' },
        headers: lesson.instructorHeaders,
      });
      expect(dispute.status).toBe(200);
      expect((await moneyOf(api, lesson.bookingId)).payment.noShowState).toBe('disputed');
      // the deadline passes: a disputed report waits for a person
      clock.set(new Date(T + 30 * H));
      expect((await runJob(api, 'payments.no-show-deadline', { bookingId: lesson.bookingId })).steps).toEqual(['frozen_no_show']);
      // past end + 24h too: the capture sweep leaves a disputed lesson frozen
      await sweep(api, 'payments.capture-sweep');
      expect((await moneyOf(api, lesson.bookingId)).payment).toMatchObject({ capturedAt: null, noShowState: 'disputed' });
      const resolved = await api.request(`/api/v1/admin/payments/${lesson.bookingId}/resolve-no-show`, {
        method: 'POST',
        json: { outcome: 'confirmed', reason: 'Video call log shows no instructor' },
        headers: admin.headers,
      });
      expect(resolved.status).toBe(200);
      expect(resolved.body.settlement.steps).toEqual(['authorization_released', 'settled:no_show_refund']);
      const money = await moneyOf(api, lesson.bookingId);
      expect(money.payment).toMatchObject({ noShowState: 'confirmed', settlementOutcome: 'no_show_refund', transferredCents: 0 });
      expect(await creditOf(api, lesson.studentId)).toEqual({ availableCents: 2000, reservedCents: 0 });
      const audit = await api.database.db
        .selectFrom('auditLog')
        .select(['action', 'reason'])
        .where('resourceId', '=', lesson.bookingId)
        .execute();
      expect(audit).toContainEqual({ action: 'payment.no_show_resolve', reason: 'Video call log shows no instructor' });
    });

    it('a rejected report goes down the normal capture path; a dispute after 24 h is refused', async () => {
      const lesson = await reported(0);
      clock.set(new Date(T + 30 * 60_000 + 24 * H + 1));
      const late = await api.request(`/api/v1/bookings/${lesson.bookingId}/no-show/dispute`, {
        method: 'POST',
        json: { reason: 'too late' },
        headers: lesson.instructorHeaders,
      });
      expect(late.status).toBe(422);
      clock.set(new Date(T + 26 * H)); // after end + 24h: the rejected lesson is captured right away
      const resolved = await api.request(`/api/v1/admin/payments/${lesson.bookingId}/resolve-no-show`, {
        method: 'POST',
        json: { outcome: 'rejected', reason: 'The lesson took place' },
        headers: admin.headers,
      });
      expect(resolved.body.settlement.steps).toEqual(['capture:captured', 'settled:completed', 'transfer:transferred']);
      const money = await moneyOf(api, lesson.bookingId);
      expect(money.booking).toMatchObject({ status: 'completed', paymentStatus: 'settled' });
      expect(money.payment).toMatchObject({
        noShowState: 'rejected',
        capturedCents: 13_440,
        transferredCents: 10_560,
        settlementOutcome: 'completed',
      });
      expect(await intentStatus(money.payment.paymentIntentId)).toBe('succeeded');
    });
  });

  it('admin refunds: a preview of exactly what happens, then the refund (idempotent per key), to the card or as credit', async () => {
    const lesson = await prepare({ authorized: true });
    clock.set(new Date(T + 26 * H));
    await sweep(api, 'payments.capture-sweep');
    expect((await moneyOf(api, lesson.bookingId)).payment).toMatchObject({ capturedCents: 13_440, transferredCents: 10_560 });
    const path = `/api/v1/admin/payments/${lesson.bookingId}/refund`;

    const preview = await api.request(`${path}/preview`, { method: 'POST', json: { amountCents: 12_500 }, headers: admin.headers });
    expect(preview.body).toMatchObject({
      provider: providerName,
      offline: providerName === 'offline',
      capturedCents: 13_440,
      cardRefundCents: 12_500,
      creditCents: 0,
      feeRefundedCents: 500,
      instructor: { action: 'none', amountCents: 0 },
      fullRefund: false,
    });
    expect((await api.request(`${path}/preview`, { method: 'POST', json: { amountCents: 20_000 }, headers: admin.headers })).status).toBe(
      422,
    );
    const student = await actingUser(api);
    expect((await api.request(`${path}/preview`, { method: 'POST', json: {}, headers: student.headers })).status).toBe(403);

    const idem = key('refund');
    const refund = () =>
      api.request(path, {
        method: 'POST',
        json: { amountCents: 12_500, reason: 'Lesson cut short' },
        headers: { ...admin.headers, 'idempotency-key': idem },
      });
    const first = await refund();
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ ...preview.body, refundId: expect.any(String) });
    const replay = await refund();
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);

    const asCredit = await api.request(path, {
      method: 'POST',
      json: { toCredit: true, reason: 'Goodwill for the rest' },
      headers: { ...admin.headers, 'idempotency-key': key('refund') },
    });
    expect(asCredit.body).toMatchObject({ cardRefundCents: 0, creditCents: 940 });
    const money = await moneyOf(api, lesson.bookingId);
    expect(money.payment).toMatchObject({ refundedCents: 12_500, settlementCardRefundCents: 12_500, transferredCents: 10_560 });
    expect(money.operations.filter((operation) => operation.purpose === 'refund').map((operation) => operation.idempotencyKey)).toEqual([
      `refund:${lesson.bookingId}:1`,
    ]);
    if (fake) expect(fake.executionsFor(`refund:${lesson.bookingId}:1`)).toBe(1);
    expect(await creditOf(api, lesson.studentId)).toEqual({ availableCents: 940, reservedCents: 0 });
    const audit = await api.database.db
      .selectFrom('auditLog')
      .select(['action', 'reason'])
      .where('resourceId', '=', lesson.bookingId)
      .where('action', '=', 'payment.admin_refund')
      .orderBy('at')
      .execute();
    expect(audit).toEqual([
      { action: 'payment.admin_refund', reason: 'Lesson cut short' },
      { action: 'payment.admin_refund', reason: 'Goodwill for the rest' },
    ]);
  });
});
