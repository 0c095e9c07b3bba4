import { describe, expect, it } from 'vitest';
import { bookingAmounts, policyWindow } from './booking.ts';
import { type CancellationActor, cancellationQuote, type CancellationSnapshot } from './cancellation-quote.ts';

const START = new Date('2027-03-10T15:00:00Z');
const H = 3_600_000;
const at = (hoursBefore: number, extraMs = 0) => new Date(START.getTime() - hoursBefore * H + extraMs);

// LP 12345 (odd cents), founding-free tier 15%: SF round(1481.4) = 1481, IF round(1851.75) = 1852, P 10493
const amounts = bookingAmounts(12345, 1500);
const snapshot = (extra: Partial<CancellationSnapshot> = {}): CancellationSnapshot => ({
  status: 'confirmed',
  startsAt: START,
  lessonPriceCents: amounts.lessonPriceCents,
  studentFeeCents: amounts.studentFeeCents,
  instructorPayoutCents: amounts.instructorPayoutCents,
  lockedAt: null,
  ...extra,
});
const LOCKED = { lockedAt: new Date('2027-03-09T00:00:00Z') };

describe('fees', () => {
  it('rounds half away from zero and keeps P = LP − IF (worked example: LP $120, 12% → SF $14.40, IF $14.40, P $105.60)', () => {
    expect(bookingAmounts(12000, 1200)).toEqual({
      lessonPriceCents: 12000,
      studentFeeCents: 1440,
      instructorFeeBps: 1200,
      instructorFeeCents: 1440,
      instructorPayoutCents: 10560,
    });
    expect(amounts).toEqual({
      lessonPriceCents: 12345,
      studentFeeCents: 1481,
      instructorFeeBps: 1500,
      instructorFeeCents: 1852,
      instructorPayoutCents: 10493,
    });
    // 12.5 → 13 (half away from zero), 8% founding
    expect(bookingAmounts(625, 800).instructorFeeCents).toBe(50);
    expect(bookingAmounts(104, 1200).studentFeeCents).toBe(12); // 12.48
    expect(bookingAmounts(1125, 1200).studentFeeCents).toBe(135);
  });
});

describe('policy windows', () => {
  it.each([
    [at(24), 'ge_24h'],
    [at(24, 1), 'h12_to_24'],
    [at(12), 'h12_to_24'],
    [at(12, 1), 'lt_12h'],
    [at(100), 'ge_24h'],
    [at(-1), 'lt_12h'],
  ] as const)('%s → %s', (now, window) => {
    expect(policyWindow(START.getTime(), now.getTime())).toBe(window);
  });
});

describe('cancellation quote (spec/payments.md table)', () => {
  const rows: Array<[string, Partial<CancellationSnapshot>, Date, CancellationActor, Record<string, unknown>]> = [
    [
      'student, t ≥ 24h (exactly 24 h)',
      {},
      at(24),
      'student',
      {
        outcome: 'released',
        window: 'ge_24h',
        cardChargedCents: 0,
        cardRefundCents: 0,
        studentCreditCents: 0,
        instructorPayoutCents: 0,
        feeKeptCents: 0,
      },
    ],
    ['student, t ≥ 24h (a week)', {}, at(168), 'student', { outcome: 'released', studentCreditCents: 0 }],
    [
      'student, 12h ≤ t < 24h (1 ms under 24 h)',
      {},
      at(24, 1),
      'student',
      {
        outcome: 'late_credit',
        window: 'h12_to_24',
        cardChargedCents: 13826,
        studentCreditCents: 12345,
        instructorPayoutCents: 0,
        feeKeptCents: 1481,
      },
    ],
    [
      'student, 12h ≤ t < 24h (exactly 12 h)',
      {},
      at(12),
      'student',
      { outcome: 'late_credit', window: 'h12_to_24', studentCreditCents: 12345 },
    ],
    [
      'student, t < 12h (1 ms under 12 h)',
      {},
      at(12, 1),
      'student',
      {
        outcome: 'very_late_split',
        window: 'lt_12h',
        cardChargedCents: 13826,
        studentCreditCents: 6173,
        instructorPayoutCents: 5247,
        feeKeptCents: 1481,
      },
    ],
    ['student, t < 12h (after the start)', {}, at(-0.5), 'student', { outcome: 'very_late_split', studentCreditCents: 6173 }],
    [
      'locked, ≥ 12h before the new start',
      LOCKED,
      at(20),
      'student',
      {
        outcome: 'locked_credit',
        cardChargedCents: 13826,
        cardRefundCents: 0,
        studentCreditCents: 12345,
        instructorPayoutCents: 0,
        feeKeptCents: 1481,
      },
    ],
    ['locked, exactly 12 h before the new start', LOCKED, at(12), 'student', { outcome: 'locked_credit', studentCreditCents: 12345 }],
    [
      'locked, even ≥ 24 h before the new start: still credit only',
      LOCKED,
      at(48),
      'student',
      { outcome: 'locked_credit', studentCreditCents: 12345 },
    ],
    [
      'locked, < 12h',
      LOCKED,
      at(11),
      'student',
      { outcome: 'locked_split', studentCreditCents: 6173, instructorPayoutCents: 5247, feeKeptCents: 1481 },
    ],
    [
      'instructor cancels, t ≥ 24h',
      {},
      at(30),
      'instructor',
      { outcome: 'full_refund', cardChargedCents: 0, cardRefundCents: 0, studentCreditCents: 0, instructorPayoutCents: 0, feeKeptCents: 0 },
    ],
    ['instructor cancels, t < 12h', {}, at(1), 'instructor', { outcome: 'full_refund', studentCreditCents: 0, instructorPayoutCents: 0 }],
    [
      'instructor cancels a locked (captured) booking: card refunded in full incl. SF',
      LOCKED,
      at(1),
      'instructor',
      { outcome: 'full_refund', cardRefundCents: 13826 },
    ],
    [
      'platform (confirmed instructor no-show, dispute won)',
      LOCKED,
      at(5),
      'platform',
      { outcome: 'full_refund', cardRefundCents: 13826, studentCreditCents: 0 },
    ],
    [
      'unpaid hold, t < 12h: nothing was charged',
      { status: 'pending_payment' },
      at(2),
      'student',
      { outcome: 'released', cardChargedCents: 0, studentCreditCents: 0 },
    ],
    ['completed lesson', { status: 'completed' }, at(-2), 'student', { outcome: 'not_cancellable', studentCreditCents: 0 }],
    ['already cancelled', { status: 'cancelled' }, at(30), 'instructor', { outcome: 'not_cancellable' }],
    ['no-show reported', { status: 'no_show' }, at(-2), 'student', { outcome: 'not_cancellable' }],
  ];
  it.each(rows)('%s', (_name, extra, now, actor, expected) => {
    const quote = cancellationQuote(snapshot(extra), now, actor);
    expect(quote).toMatchObject(expected);
    expect(quote.wording.length).toBeGreaterThan(10);
    // money never appears from nowhere: credit + instructor share ≤ what the card paid
    expect(quote.studentCreditCents + quote.instructorPayoutCents + quote.feeKeptCents).toBeLessThanOrEqual(
      Math.max(quote.cardChargedCents, 0) || 13826,
    );
  });

  it('halves odd cents half away from zero (LP 101 → credit 51; P 87 → 44)', () => {
    const quote = cancellationQuote(
      { ...snapshot(), lessonPriceCents: 101, studentFeeCents: 12, instructorPayoutCents: 87 },
      at(1),
      'student',
    );
    expect(quote).toMatchObject({ studentCreditCents: 51, instructorPayoutCents: 44, cardChargedCents: 113, feeKeptCents: 12 });
  });

  it('says amounts in dollars in its wording', () => {
    expect(cancellationQuote(snapshot(), at(20), 'student').wording).toContain('$138.26');
  });
});
