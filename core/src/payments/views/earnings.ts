import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { PLATFORM_ZONE } from '../../availability/local-time.ts';
import { decideTier, findTierState, FOUNDING_FEE_BPS, TIER_LADDER } from '../../pricing/index.ts';
import { AppError, notFound } from '../../shared/errors.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { iso, labelOf, type ProviderLabel } from './labels.ts';
import { findEarningsRows, findPayoutProvider, findTransferRows } from './views.queries.ts';

export type EarningsPeriod = 'month' | 'week';
const MAX_EARNINGS_DAYS = 400;

export interface EarningsLine {
  lessons: number;
  /** Lesson prices of completed lessons (LP). */
  grossLessonPriceCents: number;
  /** The platform fee on them (IF, at each booking's snapshotted rate). */
  platformFeeCents: number;
  /** What the instructor is owed in all: P of completed lessons plus late-cancellation compensation. */
  netPayoutCents: number;
  /** Part of the net from late cancellations (50% of P) rather than lessons taught. */
  cancellationPayoutCents: number;
  /** Transferred to the payout account. */
  paidCents: number;
  /** Owed, not transferred yet (captures at lesson end + 24 h, then the transfer). */
  pendingCents: number;
}

export interface InstructorEarnings extends ProviderLabel {
  instructorId: string;
  period: EarningsPeriod;
  window: { from: string; to: string };
  /** Newest period first; periods without earnings are left out. `periodStart` is a New York calendar day. */
  periods: Array<EarningsLine & { periodStart: string }>;
  totals: EarningsLine;
  tier: {
    /** The platform fee a lesson booked now is charged. */
    feeBps: number;
    isFounding: boolean;
    foundingNumber: number | null;
    foundingFeeBps: number;
    completedLessonsLast30Days: number;
    lastLessonAt: string | null;
    /** unchanged, rise, drop, held, reset, founding… as the next evaluation would apply it. */
    status: string;
    explanation: string;
    /** When a lower volume may first cost a step (a tier is kept at least 30 days). */
    dropNotBefore: string | null;
    /** The next better tier and how many more completed lessons (in 30 days) it needs; null at the top or when founding. */
    nextTier: { feeBps: number; lessonsNeeded: number } | null;
    ladder: Array<{ feeBps: number; minLessons: number }>;
  };
}

/** The default window: this period and the previous ones (6 months, or 12 weeks), New York calendar. */
export function earningsWindow(now: Date, period: EarningsPeriod, from?: Date, to?: Date): { from: Date; to: Date } {
  const local = DateTime.fromJSDate(now, { zone: PLATFORM_ZONE });
  const start =
    from ?? (period === 'month' ? local.minus({ months: 5 }).startOf('month') : local.minus({ weeks: 11 }).startOf('week')).toJSDate();
  const end = to ?? (period === 'month' ? local.endOf('month') : local.endOf('week')).plus({ milliseconds: 1 }).toJSDate();
  if (end.getTime() <= start.getTime()) throw new AppError('validation_error', '`to` must be after `from`.', 'to');
  if (end.getTime() - start.getTime() > MAX_EARNINGS_DAYS * 86_400_000) {
    throw new AppError('validation_error', `The window may span at most ${MAX_EARNINGS_DAYS} days.`, 'from');
  }
  return { from: start, to: end };
}

/**
 * An instructor's earnings per period (lessons, gross, platform fee, net payout, paid vs
 * pending) and their current tier or founding rate — read only: the tier shown is what the next
 * evaluation would decide, nothing is written.
 */
export async function getInstructorEarnings(
  db: Kysely<DB>,
  instructorId: string,
  input: { now: Date; period: EarningsPeriod; from?: Date | undefined; to?: Date | undefined; configured: ProviderLabel },
): Promise<InstructorEarnings> {
  const state = await findTierState(db, instructorId, input.now);
  if (!state) throw notFound('Your instructor profile');
  const window = earningsWindow(input.now, input.period, input.from, input.to);
  const rows = await findEarningsRows(db, { instructorId, period: input.period, ...window });
  const payoutProvider = await findPayoutProvider(db, instructorId);

  const periods = rows.map((row) => ({
    periodStart: row.periodStart,
    lessons: row.lessons,
    grossLessonPriceCents: row.grossLessonPriceCents,
    platformFeeCents: row.platformFeeCents,
    netPayoutCents: row.lessonPayoutCents + row.cancellationPayoutCents,
    cancellationPayoutCents: row.cancellationPayoutCents,
    paidCents: row.paidCents,
    pendingCents: row.pendingCents,
  }));
  const totals: EarningsLine = {
    lessons: 0,
    grossLessonPriceCents: 0,
    platformFeeCents: 0,
    netPayoutCents: 0,
    cancellationPayoutCents: 0,
    paidCents: 0,
    pendingCents: 0,
  };
  for (const line of periods) {
    for (const key of Object.keys(totals) as Array<keyof EarningsLine>) totals[key] += line[key];
  }

  const tier = decideTier(state, input.now);
  const index = TIER_LADDER.findIndex((step) => step.feeBps === tier.feeBps);
  const next = tier.isFounding || index < 0 ? undefined : TIER_LADDER[index + 1];
  return {
    ...labelOf(payoutProvider, input.configured),
    instructorId,
    period: input.period,
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    periods,
    totals,
    tier: {
      feeBps: tier.feeBps,
      isFounding: tier.isFounding,
      foundingNumber: tier.foundingNumber,
      foundingFeeBps: FOUNDING_FEE_BPS,
      completedLessonsLast30Days: tier.lessonsInWindow,
      lastLessonAt: iso(tier.lastLessonAt),
      status: tier.decision.change,
      explanation: tier.decision.reason,
      dropNotBefore: iso(tier.decision.dropNotBefore),
      nextTier: next ? { feeBps: next.feeBps, lessonsNeeded: Math.max(next.minLessons - tier.lessonsInWindow, 0) } : null,
      ladder: TIER_LADDER.map((step) => ({ feeBps: step.feeBps, minLessons: step.minLessons })),
    },
  };
}

export interface PayoutTransfer extends ProviderLabel {
  id: string;
  /** transfer (lesson payout), advance-payout, tip-transfer, referral-payout, transfer-reversal (money taken back). */
  kind: string;
  status: string;
  amountCents: number | null;
  /** The provider's transfer (or reversal) id. */
  transferId: string | null;
  bookingId: string | null;
  serviceName: string | null;
  lessonStartsAt: string | null;
  createdAt: string;
  completedAt: string | null;
}

const TransferCursor = z.object({ c: z.string().min(1), id: z.string().min(1) });

/** Money sent to the instructor (and any taken back), newest first; failed calls are not shown. */
export async function findInstructorTransfers(
  db: Kysely<DB>,
  instructorId: string,
  input: { limit: number; cursor?: string | undefined },
): Promise<Page<PayoutTransfer>> {
  const after = decodeCursor(input.cursor, TransferCursor);
  const rows = await findTransferRows(db, {
    instructorId,
    limit: input.limit,
    after: after ? { createdKey: after.c, id: after.id } : undefined,
  });
  return toPage(
    rows,
    input.limit,
    (row): PayoutTransfer => ({
      ...labelOf(row.provider, { provider: 'offline', offline: true }),
      id: row.id,
      kind: row.purpose,
      status: row.status,
      amountCents: row.amountCents,
      transferId: row.providerObjectId,
      bookingId: row.bookingId,
      serviceName: row.serviceName,
      lessonStartsAt: iso(row.lessonStartsAt),
      createdAt: row.createdAt.toISOString(),
      completedAt: iso(row.completedAt),
    }),
    (row) => ({ c: row.createdKey, id: row.id }),
  );
}
