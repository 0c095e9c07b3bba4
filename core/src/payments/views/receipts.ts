import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { notFound } from '../../shared/errors.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { iso, labelOf, type ProviderLabel, shortName } from './labels.ts';
import { findReceiptRow, findReceiptRows, type ReceiptRow } from './views.queries.ts';

/** Where the card stands, in the student's terms. */
export const RECEIPT_STATES = [
  'scheduled',
  'authorized',
  'charged',
  'partially_refunded',
  'refunded',
  'released',
  'payment_method_required',
  'in_review',
] as const;
export type ReceiptState = (typeof RECEIPT_STATES)[number];

export interface Receipt extends ProviderLabel {
  bookingId: string;
  serviceName: string;
  instructorName: string;
  startsAt: string;
  durationMinutes: number;
  bookingStatus: string;
  paymentStatus: string;
  state: ReceiptState;
  lessonPriceCents: number;
  /** Booking-protection fee (12% of the lesson price; credits never cover it). */
  studentFeeCents: number;
  creditsAppliedCents: number;
  /** What the card was (or will be) authorized for: lesson − credits + fee. */
  cardAmountCents: number;
  cardChargedCents: number;
  cardRefundedCents: number;
  /** Charged less refunded. */
  cardNetCents: number;
  /** Credit given back by a cancellation settlement. */
  creditReturnedCents: number;
  card: { brand: string; last4: string } | null;
  authorizedAt: string | null;
  chargedAt: string | null;
  settlement: { outcome: string | null; settledAt: string | null } | null;
}

function receiptState(row: ReceiptRow): ReceiptState {
  if (row.paymentStatus === 'manual_review') return 'in_review';
  if (row.paymentStatus === 'payment_method_required') return 'payment_method_required';
  if (row.capturedCents > 0) {
    if (row.refundedCents >= row.capturedCents) return 'refunded';
    return row.refundedCents > 0 ? 'partially_refunded' : 'charged';
  }
  if (row.settledAt || row.status === 'cancelled') return 'released';
  return row.authorizedAt ? 'authorized' : 'scheduled';
}

function toReceipt(row: ReceiptRow): Receipt {
  return {
    ...labelOf(row.provider, { provider: 'offline', offline: true }),
    bookingId: row.bookingId,
    serviceName: row.serviceName,
    instructorName: shortName(row.instructorFirstName, row.instructorLastName),
    startsAt: row.startsAt.toISOString(),
    durationMinutes: row.durationMinutes,
    bookingStatus: row.status,
    paymentStatus: row.paymentStatus,
    state: receiptState(row),
    lessonPriceCents: row.lessonPriceCents,
    studentFeeCents: row.studentFeeCents,
    creditsAppliedCents: row.creditsAppliedCents,
    cardAmountCents: row.cardAmountCents,
    cardChargedCents: row.capturedCents,
    cardRefundedCents: row.refundedCents,
    cardNetCents: row.capturedCents - row.refundedCents,
    creditReturnedCents: row.settlementStudentCreditCents ?? 0,
    card: row.cardBrand && row.cardLast4 ? { brand: row.cardBrand, last4: row.cardLast4 } : null,
    authorizedAt: iso(row.authorizedAt),
    chargedAt: iso(row.capturedAt),
    settlement: row.settledAt || row.settlementOutcome ? { outcome: row.settlementOutcome, settledAt: iso(row.settledAt) } : null,
  };
}

const ReceiptCursor = z.object({ t: z.string().min(1), id: z.string().min(1) });

/** The student's receipts (bookings with a payment record), latest lesson first. */
export async function findReceipts(
  db: Kysely<DB>,
  studentId: string,
  input: { limit: number; cursor?: string | undefined },
): Promise<Page<Receipt>> {
  const after = decodeCursor(input.cursor, ReceiptCursor);
  const rows = await findReceiptRows(db, studentId, { limit: input.limit, after: after ? { startsAt: after.t, id: after.id } : undefined });
  return toPage(rows, input.limit, toReceipt, (row) => ({ t: row.startsAt.toISOString(), id: row.bookingId }));
}

/** One receipt of the student's own; another student's booking is simply not found (404). */
export async function getReceipt(db: Kysely<DB>, studentId: string, bookingId: string): Promise<Receipt> {
  const row = await findReceiptRow(db, studentId, bookingId);
  if (!row) throw notFound('The receipt', 'bookingId');
  return toReceipt(row);
}
