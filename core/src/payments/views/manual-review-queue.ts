import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { iso, labelOf, type ProviderLabel } from './labels.ts';
import { findManualReviewRows } from './views.queries.ts';

export interface ManualReviewItem extends ProviderLabel {
  bookingId: string;
  /** manual_review_reason, else what the state shows (no_show_reported, no_show_disputed, capture_failed). */
  reason: string;
  /** When the booking entered review (its event), else when the trouble began. */
  since: string;
  bookingStatus: string;
  serviceName: string;
  startsAt: string;
  endsAt: string;
  student: { id: string; name: string };
  instructor: { id: string; name: string };
  amounts: {
    lessonPriceCents: number;
    studentFeeCents: number;
    instructorPayoutCents: number;
    cardAmountCents: number | null;
    creditsAppliedCents: number | null;
    capturedCents: number;
    refundedCents: number;
    transferredCents: number;
  };
  payoutAdvancedAt: string | null;
  noShowState: string | null;
  lastFailure: { code: string | null; message: string | null } | null;
}

const ManualReviewCursor = z.object({ s: z.string().min(1), b: z.string().min(1) });

/** The manual-review queue, oldest first (the order to work it in), keyset-paginated. */
export async function findManualReviewQueue(
  db: Kysely<DB>,
  input: { limit: number; cursor?: string | undefined; configured: ProviderLabel },
): Promise<Page<ManualReviewItem>> {
  const after = decodeCursor(input.cursor, ManualReviewCursor);
  const rows = await findManualReviewRows(db, { limit: input.limit, after: after ? { sinceKey: after.s, bookingId: after.b } : undefined });
  return toPage(
    rows,
    input.limit,
    (row): ManualReviewItem => ({
      ...labelOf(row.provider, input.configured),
      bookingId: row.bookingId,
      reason: row.reason,
      since: row.since.toISOString(),
      bookingStatus: row.status,
      serviceName: row.serviceName,
      startsAt: row.startsAt.toISOString(),
      endsAt: row.endsAt.toISOString(),
      student: { id: row.studentId, name: `${row.studentFirstName} ${row.studentLastName}` },
      instructor: { id: row.instructorId, name: `${row.instructorFirstName} ${row.instructorLastName}` },
      amounts: {
        lessonPriceCents: row.lessonPriceCents,
        studentFeeCents: row.studentFeeCents,
        instructorPayoutCents: row.instructorPayoutCents,
        cardAmountCents: row.cardAmountCents,
        creditsAppliedCents: row.creditsAppliedCents,
        capturedCents: row.capturedCents ?? 0,
        refundedCents: row.refundedCents ?? 0,
        transferredCents: row.transferredCents ?? 0,
      },
      payoutAdvancedAt: iso(row.payoutAdvancedAt),
      noShowState: row.noShowState,
      lastFailure: row.lastFailureCode || row.lastFailureMessage ? { code: row.lastFailureCode, message: row.lastFailureMessage } : null,
    }),
    (row) => ({ s: row.sinceKey, b: row.bookingId }),
  );
}
