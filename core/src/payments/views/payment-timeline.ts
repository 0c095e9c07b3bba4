import type { DB, JsonValue } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { notFound } from '../../shared/errors.ts';
import { iso, labelOf, type ProviderLabel, usd } from './labels.ts';
import {
  type BookingPaymentRow,
  type BookingSummaryRow,
  findAuditForBooking,
  findBookingEvents,
  findBookingPayment,
  findBookingSummary,
  findMismatchesForBooking,
  findOperationsForBooking,
  findWebhookEventsForObjects,
} from './views.queries.ts';

export type TimelineSource = 'booking_event' | 'payment_operation' | 'webhook_event' | 'audit' | 'mismatch';

export interface TimelineEntry {
  at: string;
  source: TimelineSource;
  /** Event type, `{purpose}.{status}` of an operation, webhook type, audit action or mismatch kind. */
  type: string;
  /** One sentence a person (or the copilot) can repeat. */
  summary: string;
  actor: { type: string; id: string | null } | null;
  amountCents: number | null;
  /** The row's own id (event, operation, webhook event, audit record, mismatch). */
  id: string;
  details: Record<string, JsonValue>;
}

export interface PaymentState extends ProviderLabel {
  cardAmountCents: number;
  creditsAppliedCents: number;
  currency: string;
  paymentMethodId: string | null;
  customerId: string | null;
  authorizeAt: string;
  authorizedAt: string | null;
  authorizationExpiresAt: string | null;
  authAttempts: number;
  nextAuthAttemptAt: string | null;
  lastFailure: { code: string | null; message: string | null } | null;
  capturedAt: string | null;
  capturedCents: number;
  captureAttempts: number;
  nextCaptureAttemptAt: string | null;
  captureFailedSince: string | null;
  refundedCents: number;
  transferredCents: number;
  transferredAt: string | null;
  payoutAdvancedAt: string | null;
  providerIds: {
    paymentIntentId: string | null;
    chargeId: string | null;
    transferId: string | null;
    reversalId: string | null;
    refundIds: string[];
  };
  settlement: {
    outcome: string | null;
    studentCreditCents: number | null;
    instructorPayoutCents: number | null;
    cardRefundCents: number | null;
    feeKeptCents: number | null;
    settledAt: string | null;
  } | null;
  noShow: { state: string; disputeDeadlineAt: string | null; resolvedAt: string | null } | null;
  manualReviewReason: string | null;
  updatedAt: string;
}

export interface PaymentTimeline extends ProviderLabel {
  booking: {
    id: string;
    status: string;
    paymentStatus: string;
    serviceName: string;
    student: { id: string; name: string };
    instructor: { id: string; name: string };
    startsAt: string;
    endsAt: string;
    createdAt: string;
    cancelledAt: string | null;
    cancelledBy: string | null;
    cancellationReason: string | null;
    lockedAt: string | null;
    originalStartsAt: string | null;
    lateRescheduleUsed: boolean;
    noShowReportedAt: string | null;
    policyVersion: string;
    amounts: {
      lessonPriceCents: number;
      studentFeeCents: number;
      instructorFeeBps: number;
      instructorFeeCents: number;
      instructorPayoutCents: number;
    };
  };
  /** The booking's money state now; null when no payment was ever set up for it. */
  payment: PaymentState | null;
  /** Sentences answering "why was this student charged (or not)?", from the state above. */
  explanation: string[];
  /** Everything that happened, oldest first. */
  entries: TimelineEntry[];
}

const SOURCE_ORDER: Record<TimelineSource, number> = { booking_event: 0, payment_operation: 1, webhook_event: 2, audit: 3, mismatch: 4 };

function toPaymentState(row: BookingPaymentRow): PaymentState {
  return {
    ...labelOf(row.provider, { provider: 'offline', offline: true }),
    cardAmountCents: row.cardAmountCents,
    creditsAppliedCents: row.creditsAppliedCents,
    currency: row.currency,
    paymentMethodId: row.paymentMethodId,
    customerId: row.customerId,
    authorizeAt: row.authorizeAt.toISOString(),
    authorizedAt: iso(row.authorizedAt),
    authorizationExpiresAt: iso(row.authorizationExpiresAt),
    authAttempts: row.authAttempts,
    nextAuthAttemptAt: iso(row.nextAuthAttemptAt),
    lastFailure: row.lastFailureCode || row.lastFailureMessage ? { code: row.lastFailureCode, message: row.lastFailureMessage } : null,
    capturedAt: iso(row.capturedAt),
    capturedCents: row.capturedCents,
    captureAttempts: row.captureAttempts,
    nextCaptureAttemptAt: iso(row.nextCaptureAttemptAt),
    captureFailedSince: iso(row.captureFailedSince),
    refundedCents: row.refundedCents,
    transferredCents: row.transferredCents,
    transferredAt: iso(row.transferredAt),
    payoutAdvancedAt: iso(row.payoutAdvancedAt),
    providerIds: {
      paymentIntentId: row.paymentIntentId,
      chargeId: row.chargeId,
      transferId: row.transferId,
      reversalId: row.reversalId,
      refundIds: row.refundIds,
    },
    settlement:
      row.settledAt || row.settlementOutcome
        ? {
            outcome: row.settlementOutcome,
            studentCreditCents: row.settlementStudentCreditCents,
            instructorPayoutCents: row.settlementInstructorPayoutCents,
            cardRefundCents: row.settlementCardRefundCents,
            feeKeptCents: row.settlementFeeKeptCents,
            settledAt: iso(row.settledAt),
          }
        : null,
    noShow: row.noShowState
      ? { state: row.noShowState, disputeDeadlineAt: iso(row.noShowDisputeDeadlineAt), resolvedAt: iso(row.noShowResolvedAt) }
      : null,
    manualReviewReason: row.manualReviewReason,
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Sentences from the state, in the order money moves. Only facts the rows hold; no guesses. */
export function explainPayment(booking: BookingSummaryRow, payment: BookingPaymentRow | undefined, fallback: ProviderLabel): string[] {
  const lines: string[] = [];
  const label = labelOf(payment?.provider, fallback);
  if (label.offline) lines.push('Offline payment provider: the amounts are recorded, no real card was charged and no money moved.');
  if (!payment) {
    lines.push(
      `No payment was set up for this booking (payment status ${booking.paymentStatus}); lesson price ${usd(booking.lessonPriceCents)} + fee ${usd(booking.studentFeeCents)} were only quoted.`,
    );
    return lines;
  }
  const credits = payment.creditsAppliedCents;
  lines.push(
    `Card amount ${usd(payment.cardAmountCents)} = lesson price ${usd(booking.lessonPriceCents)}${credits ? ` − credits ${usd(credits)}` : ''} + booking-protection fee ${usd(booking.studentFeeCents)} (fee not coverable by credits).`,
  );
  if (payment.authorizedAt) {
    lines.push(
      `Card authorized on ${payment.authorizedAt.toISOString()}${payment.paymentIntentId ? ` (payment intent ${payment.paymentIntentId})` : ''}${payment.authorizationExpiresAt ? `; the authorization lapses at ${payment.authorizationExpiresAt.toISOString()}` : ''}.`,
    );
  } else if (!payment.settledAt) {
    lines.push(`Authorization due at ${payment.authorizeAt.toISOString()} (lesson start − 24 h, or at checkout when sooner).`);
  }
  if (payment.lastFailureCode || payment.lastFailureMessage) {
    const message = payment.lastFailureMessage ? ` ("${payment.lastFailureMessage}")` : '';
    lines.push(
      `Last failure after ${payment.authAttempts} authorization and ${payment.captureAttempts} capture attempt(s): ${payment.lastFailureCode ?? 'error'}${message}.`,
    );
  }
  if (payment.nextAuthAttemptAt) lines.push(`Next authorization retry at ${payment.nextAuthAttemptAt.toISOString()}.`);
  if (payment.nextCaptureAttemptAt) lines.push(`Next capture retry at ${payment.nextCaptureAttemptAt.toISOString()}.`);
  if (payment.capturedAt) {
    const why = booking.lockedAt ? ' (late reschedule locked the booking: captured at once)' : '';
    lines.push(`Captured ${usd(payment.capturedCents)} from the card on ${payment.capturedAt.toISOString()}${why}.`);
  }
  if (payment.refundedCents > 0) {
    lines.push(
      `Refunded ${usd(payment.refundedCents)} to the card${payment.refundIds.length ? ` (${payment.refundIds.join(', ')})` : ''}.`,
    );
  }
  if (payment.settledAt || payment.settlementOutcome) {
    const parts = [
      payment.settlementStudentCreditCents ? `student credit ${usd(payment.settlementStudentCreditCents)}` : null,
      payment.settlementInstructorPayoutCents !== null ? `instructor payout ${usd(payment.settlementInstructorPayoutCents)}` : null,
      payment.settlementCardRefundCents ? `card refund ${usd(payment.settlementCardRefundCents)}` : null,
      payment.settlementFeeKeptCents ? `fee kept ${usd(payment.settlementFeeKeptCents)}` : null,
    ].filter(Boolean);
    lines.push(
      `Settled as ${payment.settlementOutcome ?? 'unknown'}${payment.settledAt ? ` on ${payment.settledAt.toISOString()}` : ''}${parts.length ? `: ${parts.join(', ')}` : ''}.`,
    );
  }
  if (payment.transferredCents > 0) {
    lines.push(
      `Paid the instructor ${usd(payment.transferredCents)}${payment.transferId ? ` by transfer ${payment.transferId}` : ''}${payment.transferredAt ? ` on ${payment.transferredAt.toISOString()}` : ''}${payment.payoutAdvancedAt ? ' (advanced by the platform after the capture failed)' : ''}.`,
    );
  }
  if (payment.reversalId) lines.push(`Transfer reversed (${payment.reversalId}).`);
  if (payment.noShowState)
    lines.push(
      `No-show ${payment.noShowState}${payment.noShowDisputeDeadlineAt ? `; dispute deadline ${payment.noShowDisputeDeadlineAt.toISOString()}` : ''}.`,
    );
  if (booking.paymentStatus === 'manual_review') lines.push(`In manual review: ${payment.manualReviewReason ?? 'no reason recorded'}.`);
  return lines;
}

function operationSummary(row: {
  purpose: string;
  status: string;
  amountCents: number | null;
  attempt: number;
  errorCode: string | null;
  providerObjectId: string | null;
}) {
  const amount = row.amountCents === null ? '' : ` ${usd(row.amountCents)}`;
  const object = row.providerObjectId ? ` → ${row.providerObjectId}` : '';
  const error = row.errorCode ? ` (${row.errorCode})` : '';
  return `${row.purpose}${amount}, attempt ${row.attempt}: ${row.status}${error}${object}`;
}

/**
 * The payment timeline of one booking for ops staff: booking events, every provider call under
 * its idempotency key, the webhooks about its payment intent, charge, refunds and transfer, audit
 * records, reconciliation mismatches, and the money state now — with sentences that explain the
 * charge. `fallback` labels a booking that has no payment record (the configured provider).
 */
export async function getPaymentTimeline(db: Kysely<DB>, bookingId: string, fallback: ProviderLabel): Promise<PaymentTimeline> {
  const booking = await findBookingSummary(db, bookingId);
  if (!booking) throw notFound('The booking', 'bookingId');
  const payment = await findBookingPayment(db, bookingId);
  const [events, operations, audit, mismatches] = [
    await findBookingEvents(db, bookingId),
    await findOperationsForBooking(db, bookingId),
    await findAuditForBooking(db, bookingId),
    await findMismatchesForBooking(db, bookingId),
  ];
  const objectIds = new Set<string>();
  for (const id of [payment?.paymentIntentId, payment?.chargeId, payment?.transferId, payment?.reversalId, ...(payment?.refundIds ?? [])]) {
    if (id) objectIds.add(id);
  }
  for (const operation of operations) if (operation.providerObjectId) objectIds.add(operation.providerObjectId);
  const webhooks = await findWebhookEventsForObjects(db, [...objectIds]);

  const entries: TimelineEntry[] = [
    ...events.map((event): TimelineEntry => ({
      at: event.at.toISOString(),
      source: 'booking_event',
      type: event.type,
      summary: `Booking ${event.type.replaceAll('_', ' ')} (${event.actorType}${event.actorId ? ` ${event.actorId}` : ''})`,
      actor: { type: event.actorType, id: event.actorId },
      amountCents: null,
      id: event.id,
      details: { data: event.data },
    })),
    ...operations.map((operation): TimelineEntry => ({
      at: operation.createdAt.toISOString(),
      source: 'payment_operation',
      type: `${operation.purpose}.${operation.status}`,
      summary: operationSummary(operation),
      actor: null,
      amountCents: operation.amountCents,
      id: operation.id,
      details: {
        purpose: operation.purpose,
        idempotencyKey: operation.idempotencyKey,
        attempt: operation.attempt,
        status: operation.status,
        provider: operation.provider,
        offline: operation.provider === 'offline',
        providerObjectId: operation.providerObjectId,
        errorCode: operation.errorCode,
        errorMessage: operation.errorMessage,
        userId: operation.userId,
        completedAt: iso(operation.completedAt),
      },
    })),
    ...webhooks.map((event): TimelineEntry => ({
      at: event.receivedAt.toISOString(),
      source: 'webhook_event',
      type: event.type,
      summary: `Webhook ${event.type} about ${event.objectId ?? 'an unknown object'}: ${event.outcome ?? (event.processedAt ? 'processed' : 'not processed yet')}${event.receiveCount > 1 ? ` (received ${event.receiveCount} times)` : ''}`,
      actor: { type: 'service', id: event.provider },
      amountCents: null,
      id: event.id,
      details: {
        objectId: event.objectId,
        provider: event.provider,
        livemode: event.livemode,
        receiveCount: event.receiveCount,
        processedAt: iso(event.processedAt),
        outcome: event.outcome,
        processingError: event.processingError,
      },
    })),
    ...audit.map((record): TimelineEntry => ({
      at: record.at.toISOString(),
      source: 'audit',
      type: record.action,
      summary: `${record.action} by ${record.actorType}${record.actorId ? ` ${record.actorId}` : ''}${record.onBehalfOf ? ` for ${record.onBehalfOf}` : ''}: ${record.outcome}${record.reason ? ` — ${record.reason}` : ''}`,
      actor: { type: record.actorType, id: record.actorId },
      amountCents: null,
      id: record.id,
      details: { before: record.before, after: record.after, reason: record.reason, outcome: record.outcome, metadata: record.metadata },
    })),
    ...mismatches.map((mismatch): TimelineEntry => ({
      at: mismatch.detectedAt.toISOString(),
      source: 'mismatch',
      type: mismatch.kind,
      summary: `Reconciliation found ${mismatch.kind}${mismatch.resolvedAt ? `; resolved ${mismatch.resolvedAt.toISOString()}${mismatch.resolutionNote ? ` (${mismatch.resolutionNote})` : ''}` : '; still open'}`,
      actor: { type: 'system', id: null },
      amountCents: null,
      id: mismatch.id,
      details: {
        ours: mismatch.ours,
        theirs: mismatch.theirs,
        lastSeenAt: mismatch.lastSeenAt.toISOString(),
        resolvedAt: iso(mismatch.resolvedAt),
        resolvedBy: mismatch.resolvedBy,
      },
    })),
  ];
  entries.sort((a, b) => a.at.localeCompare(b.at) || SOURCE_ORDER[a.source] - SOURCE_ORDER[b.source] || a.id.localeCompare(b.id));

  const label = labelOf(payment?.provider, fallback);
  return {
    ...label,
    booking: {
      id: booking.id,
      status: booking.status,
      paymentStatus: booking.paymentStatus,
      serviceName: booking.serviceName,
      student: { id: booking.studentId, name: `${booking.studentFirstName} ${booking.studentLastName}` },
      instructor: { id: booking.instructorId, name: `${booking.instructorFirstName} ${booking.instructorLastName}` },
      startsAt: booking.startsAt.toISOString(),
      endsAt: booking.endsAt.toISOString(),
      createdAt: booking.createdAt.toISOString(),
      cancelledAt: iso(booking.cancelledAt),
      cancelledBy: booking.cancelledBy,
      cancellationReason: booking.cancellationReason,
      lockedAt: iso(booking.lockedAt),
      originalStartsAt: iso(booking.originalStartsAt),
      lateRescheduleUsed: booking.lateRescheduleUsed,
      noShowReportedAt: iso(booking.noShowReportedAt),
      policyVersion: booking.policyVersion,
      amounts: {
        lessonPriceCents: booking.lessonPriceCents,
        studentFeeCents: booking.studentFeeCents,
        instructorFeeBps: booking.instructorFeeBps,
        instructorFeeCents: booking.instructorFeeCents,
        instructorPayoutCents: booking.instructorPayoutCents,
      },
    },
    payment: payment ? toPaymentState(payment) : null,
    explanation: explainPayment(booking, payment, fallback),
    entries,
  };
}
