import { describe, expect, it } from 'vitest';
import { bookingAmounts } from '../booking/booking.ts';
import { cancellationQuote, type CancellationActor, type CancellationSnapshot } from '../booking/cancellation-quote.ts';
import { authorizationCovers, failedAuthorizationStep, nextAuthorizationRetryAt, nextCaptureRetryAt } from './payment-schedule.ts';
import { planCancellationSettlement, planCompletionSettlement, planNoShowRefund, type SettlementPlan } from './settlement.ts';

const H = 3_600_000;
const START = new Date('2027-03-10T15:00:00Z');
const before = (hours: number, extraMs = 0) => new Date(START.getTime() - hours * H + extraMs);

/** A booking priced like the real ones: LP, SF 12%, IF at the tier rate, P = LP − IF. */
function priced(lessonPriceCents: number, feeBps: number, extra: Partial<CancellationSnapshot> = {}) {
  const amounts = bookingAmounts(lessonPriceCents, feeBps);
  const snapshot: CancellationSnapshot = {
    status: 'confirmed',
    startsAt: START,
    lessonPriceCents: amounts.lessonPriceCents,
    studentFeeCents: amounts.studentFeeCents,
    instructorPayoutCents: amounts.instructorPayoutCents,
    lockedAt: null,
    ...extra,
  };
  return { amounts, snapshot };
}

/** The card carries (LP − credits) + SF; `captured` when a LOCK already took it. */
function paymentOf(snapshot: CancellationSnapshot, creditsCents: number, captured = false) {
  const cardAmountCents = snapshot.lessonPriceCents - creditsCents + snapshot.studentFeeCents;
  return { cardAmountCents, capturedCents: captured ? cardAmountCents : 0, refundedCents: 0 };
}

const LOCKED = { lockedAt: new Date('2027-03-09T00:00:00Z') };

describe('cancellation settlement: every cell of the table, from the same quote the user sees', () => {
  // LP $120 at the 12% tier (worked example): SF $14.40, IF $14.40, P $105.60
  const { amounts, snapshot } = priced(12_000, 1200);
  expect(amounts).toMatchObject({ studentFeeCents: 1440, instructorFeeCents: 1440, instructorPayoutCents: 10_560 });

  const cells: Array<{
    cell: string;
    now: Date;
    actor: CancellationActor;
    locked?: boolean;
    credits?: number;
    expect: Partial<SettlementPlan> & { credit: SettlementPlan['credit'] };
  }> = [
    {
      cell: 'student, t ≥ 24h (exactly 24h): authorization released, reserved credits released, instructor $0',
      now: before(24),
      actor: 'student',
      credits: 2000,
      expect: {
        outcome: 'released',
        captureCents: 0,
        releaseAuthorization: true,
        credit: { kind: 'release_all' },
        instructorPayoutCents: 0,
        feeKeptCents: 0,
      },
    },
    {
      cell: 'student, t ≥ 24h (a week)',
      now: before(168),
      actor: 'student',
      expect: { outcome: 'released', captureCents: 0, releaseAuthorization: true, credit: { kind: 'release_all' }, studentCreditCents: 0 },
    },
    {
      cell: 'student, 12h ≤ t < 24h (1 ms under 24h): captured, SF kept, 100% of LP as credit, instructor $0',
      now: before(24, 1),
      actor: 'student',
      expect: {
        outcome: 'late_credit',
        captureCents: 13_440,
        releaseAuthorization: false,
        credit: { kind: 'penalty', targetCents: 12_000 },
        studentCreditCents: 12_000,
        instructorPayoutCents: 0,
        feeKeptCents: 1440,
      },
    },
    {
      cell: 'student, 12h ≤ t < 24h (exactly 12h), $20 of credits applied: the card carries LP − $20 + SF',
      now: before(12),
      actor: 'student',
      credits: 2000,
      expect: {
        outcome: 'late_credit',
        captureCents: 11_440,
        credit: { kind: 'penalty', targetCents: 12_000 },
        studentCreditCents: 12_000,
        instructorPayoutCents: 0,
        feeKeptCents: 1440,
      },
    },
    {
      cell: 'student, t < 12h (1 ms under 12h): captured, SF kept, 50% of LP as credit, 50% of P to the instructor',
      now: before(12, 1),
      actor: 'student',
      expect: {
        outcome: 'very_late_split',
        captureCents: 13_440,
        credit: { kind: 'penalty', targetCents: 6000 },
        studentCreditCents: 6000,
        instructorPayoutCents: 5280,
        feeKeptCents: 1440,
      },
    },
    {
      cell: 'student, t < 12h (after the start)',
      now: before(-0.5),
      actor: 'student',
      expect: {
        outcome: 'very_late_split',
        studentCreditCents: 6000,
        instructorPayoutCents: 5280,
        credit: { kind: 'penalty', targetCents: 6000 },
      },
    },
    {
      cell: 'locked booking, ≥ 12h before the new start (exactly 12h): 100% of LP as credit, instructor $0',
      now: before(12),
      actor: 'student',
      locked: true,
      expect: {
        outcome: 'locked_credit',
        captureCents: 13_440,
        cardRefundCents: 0,
        credit: { kind: 'penalty', targetCents: 12_000 },
        studentCreditCents: 12_000,
        instructorPayoutCents: 0,
        feeKeptCents: 1440,
      },
    },
    {
      cell: 'locked booking, ≥ 12h before the new start (3 days)',
      now: before(72),
      actor: 'student',
      locked: true,
      expect: { outcome: 'locked_credit', credit: { kind: 'penalty', targetCents: 12_000 }, instructorPayoutCents: 0 },
    },
    {
      cell: 'locked booking, < 12h (1 ms under 12h): 50% of LP as credit, 50% of P',
      now: before(12, 1),
      actor: 'student',
      locked: true,
      expect: {
        outcome: 'locked_split',
        credit: { kind: 'penalty', targetCents: 6000 },
        studentCreditCents: 6000,
        instructorPayoutCents: 5280,
        feeKeptCents: 1440,
      },
    },
    {
      cell: 'instructor cancels (a week before): authorization released in full, credits released, instructor $0',
      now: before(168),
      actor: 'instructor',
      credits: 1500,
      expect: {
        outcome: 'full_refund',
        captureCents: 0,
        releaseAuthorization: true,
        cardRefundCents: 0,
        credit: { kind: 'release_all' },
        fullRefund: true,
      },
    },
    {
      cell: 'instructor cancels (1 h before)',
      now: before(1),
      actor: 'instructor',
      expect: {
        outcome: 'full_refund',
        releaseAuthorization: true,
        credit: { kind: 'release_all' },
        instructorPayoutCents: 0,
        feeKeptCents: 0,
        fullRefund: true,
      },
    },
    {
      cell: 'instructor cancels a locked (captured) booking: full refund to the card including SF',
      now: before(30),
      actor: 'instructor',
      locked: true,
      expect: {
        outcome: 'full_refund',
        releaseAuthorization: false,
        cardRefundCents: 13_440,
        credit: { kind: 'release_all' },
        fullRefund: true,
      },
    },
    {
      cell: 'the platform cancels (admin waiver) a locked booking with $20 credits: the card gets back what it paid',
      now: before(5),
      actor: 'platform',
      locked: true,
      credits: 2000,
      expect: {
        outcome: 'full_refund',
        cardRefundCents: 11_440,
        credit: { kind: 'release_all' },
        instructorPayoutCents: 0,
        fullRefund: true,
      },
    },
  ];

  it.each(cells)('$cell', ({ now, actor, locked, credits, expect: expected }) => {
    const quoteSnapshot = locked ? { ...snapshot, ...LOCKED } : snapshot;
    const quote = cancellationQuote(quoteSnapshot, now, actor);
    const plan = planCancellationSettlement(quote, paymentOf(quoteSnapshot, credits ?? 0, locked));
    expect(plan).toMatchObject(expected);
    // what the screen showed is what settles
    expect(plan.studentCreditCents).toBe(quote.studentCreditCents);
    expect(plan.instructorPayoutCents).toBe(quote.instructorPayoutCents);
    expect(plan.feeKeptCents).toBe(quote.feeKeptCents);
  });

  it('refuses to settle a booking that cannot be cancelled', () => {
    const quote = cancellationQuote({ ...snapshot, status: 'completed' }, before(48), 'student');
    expect(() => planCancellationSettlement(quote, paymentOf(snapshot, 0))).toThrow(/cannot be cancelled/);
  });
});

describe('odd cents and rates (one rounding rule: half away from zero)', () => {
  it.each([
    // LP $45.55 at 15%: SF round(546.6) = 547, IF round(683.25) = 683, P 3872; half of LP round(2277.5) = 2278, half of P 1936
    { lp: 4555, bps: 1500, sf: 547, p: 3872, halfLp: 2278, halfP: 1936 },
    // LP $45.55 at the founding 8%: IF round(364.4) = 364, P 4191, half of P round(2095.5) = 2096
    { lp: 4555, bps: 800, sf: 547, p: 4191, halfLp: 2278, halfP: 2096 },
    // LP $123.45 at 10%: SF round(1481.4) = 1481, IF round(1234.5) = 1235 (half away from zero), P 11110
    { lp: 12_345, bps: 1000, sf: 1481, p: 11_110, halfLp: 6173, halfP: 5555 },
    // LP $120 founding 8%: IF $9.60, P $110.40
    { lp: 12_000, bps: 800, sf: 1440, p: 11_040, halfLp: 6000, halfP: 5520 },
  ])(
    'LP $lp at $bps bps → SF $sf, P $p; < 12h split gives $halfLp credit and $halfP to the instructor',
    ({ lp, bps, sf, p, halfLp, halfP }) => {
      const { amounts, snapshot } = priced(lp, bps);
      expect(amounts.studentFeeCents).toBe(sf);
      expect(amounts.instructorPayoutCents).toBe(p);
      const late = planCancellationSettlement(cancellationQuote(snapshot, before(24, 1), 'student'), paymentOf(snapshot, 0));
      expect(late).toMatchObject({ captureCents: lp + sf, studentCreditCents: lp, feeKeptCents: sf, instructorPayoutCents: 0 });
      const split = planCancellationSettlement(cancellationQuote(snapshot, before(2), 'student'), paymentOf(snapshot, 0));
      expect(split).toMatchObject({ captureCents: lp + sf, studentCreditCents: halfLp, instructorPayoutCents: halfP, feeKeptCents: sf });
    },
  );
});

describe('completion and no-show plans', () => {
  it('a lesson that happened captures the card in full, pays P and keeps SF; a no-show refunds everything', () => {
    const { amounts, snapshot } = priced(12_000, 1200);
    expect(planCompletionSettlement(amounts, paymentOf(snapshot, 2000))).toMatchObject({
      outcome: 'completed',
      captureCents: 11_440,
      instructorPayoutCents: 10_560,
      feeKeptCents: 1440,
      credit: { kind: 'consume' },
    });
    expect(planNoShowRefund(paymentOf(snapshot, 0))).toMatchObject({
      outcome: 'no_show_refund',
      releaseAuthorization: true,
      cardRefundCents: 0,
      fullRefund: true,
    });
    expect(planNoShowRefund(paymentOf(snapshot, 0, true))).toMatchObject({ releaseAuthorization: false, cardRefundCents: 13_440 });
  });
});

describe('authorization retry ladder: +1h, +4h, +8h, then every 8h after the first failure', () => {
  const first = new Date('2027-03-09T15:00:00Z');
  const at = (hours: number) => new Date(first.getTime() + hours * H);
  it.each([
    [0, 1],
    [0.5, 1],
    [1, 4],
    [3.99, 4],
    [4, 8],
    [8, 16],
    [9, 16],
    [16, 24],
    [23.5, 24],
    [24, 32],
    [40, 48],
  ])('after a failure %sh after the first one, the next try is at +%sh', (since, next) => {
    expect(nextAuthorizationRetryAt(first, at(since))).toEqual(at(next));
  });

  it('a lesson booked days ahead meets its retries, the T−13h warning and the T−12h cancellation in order', () => {
    // first failure at T−24h: retries at T−23h, T−20h, T−16h; warning at T−13h; cancel at T−12h
    const startsAt = at(24);
    const step = (hours: number, nextAttemptAt: Date | null, warned = false) =>
      failedAuthorizationStep({ startsAt, now: at(hours), nextAttemptAt, finalWarningSentAt: warned ? at(11) : null });
    expect(step(0.5, at(1))).toBe('wait');
    expect(step(1, at(1))).toBe('retry');
    expect(step(4, at(4))).toBe('retry');
    expect(step(8, at(8))).toBe('retry');
    expect(step(10.99, at(16))).toBe('wait');
    expect(step(11, at(16))).toBe('final_warning'); // T−13h
    expect(step(11.5, at(16), true)).toBe('wait');
    expect(step(12, at(16), true)).toBe('cancel'); // T−12h exactly
    expect(step(12, at(16), false)).toBe('cancel');
  });
});

describe('capture retries over 48–72 hours, then manual review', () => {
  const first = new Date('2027-03-12T16:00:00Z');
  const at = (hours: number) => new Date(first.getTime() + hours * H);
  it.each([
    [0, 2],
    [2, 8],
    [8, 24],
    [24, 48],
    [47.9, 48],
  ])('a failure %sh after the first → retry at +%sh', (since, next) => {
    expect(nextCaptureRetryAt(first, at(since))).toEqual(at(next));
  });
  it('the attempt at +48h (or later, up to +72h) is the last one', () => {
    expect(nextCaptureRetryAt(first, at(48))).toBeNull();
    expect(nextCaptureRetryAt(first, at(71))).toBeNull();
  });
});

describe('re-authorization reads capture_before', () => {
  const capture = new Date('2027-03-12T16:00:00Z');
  it('an authorization covers the capture only when it lasts an hour past it', () => {
    expect(authorizationCovers({ authorizedAt: null, expiresAt: null }, capture)).toBe(false);
    expect(authorizationCovers({ authorizedAt: new Date(), expiresAt: null }, capture)).toBe(true);
    expect(authorizationCovers({ authorizedAt: new Date(), expiresAt: new Date(capture.getTime() + H) }, capture)).toBe(true);
    expect(authorizationCovers({ authorizedAt: new Date(), expiresAt: new Date(capture.getTime() + H - 1) }, capture)).toBe(false);
  });
});
