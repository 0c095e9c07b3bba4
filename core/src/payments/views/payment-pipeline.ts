import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { PAYMENT_STATUSES, type PaymentStatus } from '../../booking/booking.ts';
import { AppError } from '../../shared/errors.ts';
import type { ProviderLabel } from './labels.ts';
import { findPipelineByStatus, findPipelineDue } from './views.queries.ts';

const DAY_MS = 86_400_000;
/** Default window: lessons starting from 30 days ago to 30 days ahead. */
export const PIPELINE_DEFAULT_DAYS = 30;
export const PIPELINE_MAX_WINDOW_DAYS = 366;
/** "Due soon" means within this many hours (authorizations at T−24h, captures at end + 24h). */
export const PIPELINE_HORIZON_HOURS = 24;

export interface Amounts {
  count: number;
  amountCents: number;
}

export interface DueStage extends Amounts {
  /** Already past due at `now`. */
  overdue: number;
  /** The earliest due (or next retry) instant, if any. */
  nextAt: string | null;
}

export interface PaymentPipeline extends ProviderLabel {
  at: string;
  window: { from: string; to: string };
  /** Bookings whose lesson starts in the window, per payment status (every status listed). */
  byStatus: Array<{
    paymentStatus: PaymentStatus;
    count: number;
    lessonPriceCents: number;
    cardAmountCents: number;
    capturedCents: number;
    refundedCents: number;
  }>;
  /** The same bookings per provider; `none`: no payment record (booked before payments or never checked out). */
  byProvider: Array<{ provider: 'stripe' | 'offline' | 'none'; offline: boolean; count: number; cardAmountCents: number }>;
  /** Around now, whatever the window. Amounts are card amounts except `transfersOwed` (instructor payouts). */
  authorizationsDue: DueStage;
  capturesDue: DueStage;
  failuresInRetry: { authorizations: DueStage; captures: DueStage };
  manualReview: Amounts;
  transfersOwed: Amounts;
}

/** The window asked for, or the default around `now`; refuses inverted or over-long windows. */
export function pipelineWindow(now: Date, from?: Date, to?: Date): { from: Date; to: Date } {
  const start = from ?? new Date((to ?? now).getTime() - PIPELINE_DEFAULT_DAYS * DAY_MS);
  const end = to ?? new Date(Math.max(now.getTime(), start.getTime()) + PIPELINE_DEFAULT_DAYS * DAY_MS);
  if (end.getTime() <= start.getTime()) throw new AppError('validation_error', '`to` must be after `from`.', 'to');
  if (end.getTime() - start.getTime() > PIPELINE_MAX_WINDOW_DAYS * DAY_MS) {
    throw new AppError('validation_error', `The window may span at most ${PIPELINE_MAX_WINDOW_DAYS} days.`, 'from');
  }
  return { from: start, to: end };
}

/**
 * The payment pipeline for ops ("payments_pipeline"): counts and amounts per payment status and
 * provider for lessons in the window, plus what is due around `now` — authorizations in the next
 * 24 h, captures due, failures being retried, the manual-review queue and payouts owed.
 */
export async function getPaymentPipeline(
  db: Kysely<DB>,
  input: { now: Date; from?: Date | undefined; to?: Date | undefined; configured: ProviderLabel },
): Promise<PaymentPipeline> {
  const window = pipelineWindow(input.now, input.from, input.to);
  const [rows, due] = [await findPipelineByStatus(db, window), await findPipelineDue(db, input.now, PIPELINE_HORIZON_HOURS)];

  const byStatus = PAYMENT_STATUSES.map((paymentStatus) => {
    const matching = rows.filter((row) => row.paymentStatus === paymentStatus);
    const sum = (key: 'count' | 'lessonPriceCents' | 'cardAmountCents' | 'capturedCents' | 'refundedCents') =>
      matching.reduce((total, row) => total + row[key], 0);
    return {
      paymentStatus,
      count: sum('count'),
      lessonPriceCents: sum('lessonPriceCents'),
      cardAmountCents: sum('cardAmountCents'),
      capturedCents: sum('capturedCents'),
      refundedCents: sum('refundedCents'),
    };
  });
  const byProvider = (['stripe', 'offline', 'none'] as const).map((provider) => {
    const matching = rows.filter((row) => row.provider === provider);
    return {
      provider,
      offline: provider === 'offline',
      count: matching.reduce((total, row) => total + row.count, 0),
      cardAmountCents: matching.reduce((total, row) => total + row.cardAmountCents, 0),
    };
  });
  const stage = (name: string): DueStage => {
    const row = due.find((candidate) => candidate.stage === name);
    return {
      count: row?.count ?? 0,
      overdue: row?.overdue ?? 0,
      amountCents: row?.amountCents ?? 0,
      nextAt: row?.nextAt?.toISOString() ?? null,
    };
  };
  const amounts = (name: string): Amounts => {
    const { count, amountCents } = stage(name);
    return { count, amountCents };
  };
  return {
    ...input.configured,
    at: input.now.toISOString(),
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    byStatus,
    byProvider,
    authorizationsDue: stage('authorizations_due'),
    capturesDue: stage('captures_due'),
    failuresInRetry: { authorizations: stage('authorization_retries'), captures: stage('capture_retries') },
    manualReview: amounts('manual_review'),
    transfersOwed: amounts('transfers_owed'),
  };
}
