import { type DB, newId } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import { type AuditContext, recordAudit } from '../../audit/record-audit.ts';
import type { Clock } from '../../shared/clock.ts';
import { AppError, notFound } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { z } from 'zod';
import { type PaymentIntentState, type PaymentProvider, PaymentProviderError } from '../provider.ts';
import { reapplyUnprocessedWebhookEvents } from '../webhooks/stripe-webhooks.ts';

/** Webhook events recorded but not applied for this long are re-applied by the sweep. */
export const UNPROCESSED_EVENT_GRACE_MS = 5 * 60_000;
/** Settled payments are still compared for this long (late refunds, disputes). */
const SETTLED_LOOKBACK_MS = 30 * 24 * 3_600_000;

export const MISMATCH_KINDS = [
  'missing_at_provider',
  'amount_mismatch',
  'status_mismatch',
  'captured_not_recorded',
  'captured_amount_mismatch',
  'refund_mismatch',
] as const;
export type MismatchKind = (typeof MISMATCH_KINDS)[number];

export interface ReconcileDeps {
  payments: PaymentProvider;
  clock: Clock;
  logger?: Logger | undefined;
}

export interface ReconcileSummary {
  checked: number;
  /** Mismatches seen in this run (new or still open). */
  open: number;
  opened: number;
  resolved: number;
  /** Provider could not be asked (retryable errors): these bookings are checked next run. */
  skipped: number;
  webhookEventsReapplied: number;
}

interface OurPayment {
  bookingId: string;
  paymentStatus: string;
  bookingStatus: string;
  paymentIntentId: string | null;
  chargeId: string | null;
  cardAmountCents: number;
  authorizedAt: Date | null;
  authorizationExpiresAt: Date | null;
  capturedAt: Date | null;
  capturedCents: number;
  refundedCents: number;
  settledAt: Date | null;
}

interface Finding {
  kind: MismatchKind;
  ours: Record<string, unknown>;
  theirs: Record<string, unknown>;
}

function oursOf(payment: OurPayment): Record<string, unknown> {
  return {
    paymentStatus: payment.paymentStatus,
    paymentIntentId: payment.paymentIntentId,
    cardAmountCents: payment.cardAmountCents,
    authorizedAt: payment.authorizedAt?.toISOString() ?? null,
    capturedAt: payment.capturedAt?.toISOString() ?? null,
    capturedCents: payment.capturedCents,
    refundedCents: payment.refundedCents,
  };
}

function theirsOf(state: PaymentIntentState): Record<string, unknown> {
  return {
    paymentIntentId: state.paymentIntentId,
    status: state.status,
    amountCents: state.amountCents,
    amountCapturableCents: state.amountCapturableCents,
    amountReceivedCents: state.amountReceivedCents,
    amountRefundedCents: state.amountRefundedCents,
  };
}

/** The differences between our record of one booking's payment and the provider's PaymentIntent. */
export function comparePayment(payment: OurPayment, state: PaymentIntentState | null, now: Date): Finding[] {
  const ours = oursOf(payment);
  if (!state) return [{ kind: 'missing_at_provider', ours, theirs: { paymentIntentId: payment.paymentIntentId, found: false } }];
  const theirs = theirsOf(state);
  const findings: Finding[] = [];
  if (state.amountCents !== payment.cardAmountCents) findings.push({ kind: 'amount_mismatch', ours, theirs });
  if (payment.capturedAt) {
    if (state.status !== 'succeeded') findings.push({ kind: 'status_mismatch', ours, theirs });
    else if (state.amountReceivedCents !== payment.capturedCents) findings.push({ kind: 'captured_amount_mismatch', ours, theirs });
  } else if (state.status === 'succeeded') {
    findings.push({ kind: 'captured_not_recorded', ours, theirs });
  } else if (
    payment.authorizedAt &&
    !payment.settledAt &&
    (payment.authorizationExpiresAt === null || payment.authorizationExpiresAt > now) &&
    ['authorized', 'locked'].includes(payment.paymentStatus) &&
    state.status !== 'requires_capture'
  ) {
    // We count on a hold the provider no longer has (released or failed behind our back).
    findings.push({ kind: 'status_mismatch', ours, theirs });
  }
  if (state.amountRefundedCents !== payment.refundedCents) findings.push({ kind: 'refund_mismatch', ours, theirs });
  return findings;
}

async function paymentsToCheck(db: Kysely<DB>, provider: string, now: Date, limit: number): Promise<OurPayment[]> {
  const since = new Date(now.getTime() - SETTLED_LOOKBACK_MS);
  return db
    .selectFrom('bookingPayments as bp')
    .innerJoin('bookings as b', 'b.id', 'bp.bookingId')
    .select([
      'bp.bookingId',
      'b.paymentStatus',
      'b.status as bookingStatus',
      'bp.paymentIntentId',
      'bp.chargeId',
      'bp.cardAmountCents',
      'bp.authorizedAt',
      'bp.authorizationExpiresAt',
      'bp.capturedAt',
      'bp.capturedCents',
      'bp.refundedCents',
      'bp.settledAt',
    ])
    .where('bp.provider', '=', provider)
    .where((eb) =>
      eb.or([
        eb('bp.paymentIntentId', 'is not', null),
        // our records say money was held or taken, yet name no PaymentIntent
        eb.and([eb('bp.paymentIntentId', 'is', null), eb.or([eb('bp.authorizedAt', 'is not', null), eb('bp.capturedAt', 'is not', null)])]),
      ]),
    )
    .where((eb) => eb.or([eb('bp.settledAt', 'is', null), eb('bp.updatedAt', '>=', since)]))
    .orderBy('bp.updatedAt', 'desc')
    .limit(limit)
    .execute();
}

/**
 * Compares bookings' payment state (booking_payments + bookings.payment_status) with the
 * provider's PaymentIntents: records each difference as an open `payment_mismatches` row (one per
 * booking and kind, `last_seen_at` refreshed), resolves the ones that no longer differ, and first
 * re-applies webhook events that were recorded but never applied. It never moves money.
 */
export async function reconcilePayments(db: Kysely<DB>, deps: ReconcileDeps, options: { limit?: number } = {}): Promise<ReconcileSummary> {
  const { reapplied } = await reapplyUnprocessedWebhookEvents(
    db,
    { payments: deps.payments, clock: deps.clock, webhookSecret: undefined, logger: deps.logger },
    { olderThanMs: UNPROCESSED_EVENT_GRACE_MS },
  );
  const now = deps.clock.now();
  const payments = await paymentsToCheck(db, deps.payments.name, now, options.limit ?? 500);
  const summary: ReconcileSummary = { checked: 0, open: 0, opened: 0, resolved: 0, skipped: 0, webhookEventsReapplied: reapplied };
  for (const payment of payments) {
    let state: PaymentIntentState | null = null;
    if (payment.paymentIntentId) {
      try {
        state = await deps.payments.retrievePaymentIntent(payment.paymentIntentId);
      } catch (error) {
        const missing =
          error instanceof PaymentProviderError &&
          !error.retryable &&
          (error.options.code === 'resource_missing' || error.options.statusCode === 404);
        if (!missing) {
          summary.skipped += 1;
          deps.logger?.warn(
            { bookingId: payment.bookingId, err: { message: (error as Error).message } },
            'reconciliation could not read a PaymentIntent',
          );
          continue;
        }
      }
    }
    summary.checked += 1;
    const findings = comparePayment(payment, state, now);
    const result = await recordFindings(db, payment.bookingId, findings, now);
    summary.open += findings.length;
    summary.opened += result.opened;
    summary.resolved += result.resolved;
  }
  if (summary.opened > 0) deps.logger?.warn({ opened: summary.opened, open: summary.open }, 'payment mismatches found by reconciliation');
  return summary;
}

async function recordFindings(
  db: Kysely<DB>,
  bookingId: string,
  findings: Finding[],
  now: Date,
): Promise<{ opened: number; resolved: number }> {
  return db.transaction().execute(async (trx) => {
    let opened = 0;
    for (const finding of findings) {
      const row = await trx
        .insertInto('paymentMismatches')
        .values({
          id: newId(),
          bookingId,
          kind: finding.kind,
          ours: JSON.stringify(finding.ours),
          theirs: JSON.stringify(finding.theirs),
          detectedAt: now,
          lastSeenAt: now,
        })
        .onConflict((conflict) =>
          conflict
            .columns(['bookingId', 'kind'])
            .where('resolvedAt', 'is', null)
            .doUpdateSet({ ours: JSON.stringify(finding.ours), theirs: JSON.stringify(finding.theirs), lastSeenAt: now }),
        )
        // xmax = 0 only on a freshly inserted row: a new finding rather than one still open.
        .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
        .executeTakeFirstOrThrow();
      if (row.inserted) opened += 1;
    }
    let resolve = trx
      .updateTable('paymentMismatches')
      .set({ resolvedAt: now, resolvedBy: 'reconciliation', resolutionNote: 'No longer differs from the provider.' })
      .where('bookingId', '=', bookingId)
      .where('resolvedAt', 'is', null);
    const current = findings.map((finding) => finding.kind);
    if (current.length > 0) resolve = resolve.where('kind', 'not in', current);
    const resolved = await resolve.executeTakeFirst();
    return { opened, resolved: Number(resolved.numUpdatedRows) };
  });
}

export interface PaymentMismatch {
  id: string;
  bookingId: string | null;
  kind: string;
  ours: unknown;
  theirs: unknown;
  detectedAt: string;
  lastSeenAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
}

type MismatchRow = {
  id: string;
  bookingId: string | null;
  kind: string;
  ours: unknown;
  theirs: unknown;
  detectedAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
};

function toMismatch(row: MismatchRow): PaymentMismatch {
  return {
    id: row.id,
    bookingId: row.bookingId,
    kind: row.kind,
    ours: row.ours,
    theirs: row.theirs,
    detectedAt: row.detectedAt.toISOString(),
    lastSeenAt: row.lastSeenAt.toISOString(),
    resolvedAt: row.resolvedAt?.toISOString() ?? null,
    resolvedBy: row.resolvedBy,
    resolutionNote: row.resolutionNote,
  };
}

const MismatchCursor = z.object({ at: z.string(), id: z.string() });

/** Mismatches, newest detection first; `status` open (default), resolved or all. */
export async function listPaymentMismatches(
  db: Kysely<DB>,
  query: {
    status: 'open' | 'resolved' | 'all';
    bookingId?: string | undefined;
    kind?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<Page<PaymentMismatch>> {
  const after = decodeCursor(query.cursor, MismatchCursor);
  let select = db.selectFrom('paymentMismatches').selectAll();
  if (query.status === 'open') select = select.where('resolvedAt', 'is', null);
  if (query.status === 'resolved') select = select.where('resolvedAt', 'is not', null);
  if (query.bookingId) select = select.where('bookingId', '=', query.bookingId);
  if (query.kind) select = select.where('kind', '=', query.kind);
  if (after) {
    const at = new Date(after.at);
    select = select.where((eb) => eb.or([eb('detectedAt', '<', at), eb.and([eb('detectedAt', '=', at), eb('id', '<', after.id)])]));
  }
  const rows = await select
    .orderBy('detectedAt', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
  return toPage(rows as MismatchRow[], query.limit, toMismatch, (row) => ({ at: row.detectedAt.toISOString(), id: row.id }));
}

/** An admin closes a mismatch after looking into it (audited with their note). */
export async function resolvePaymentMismatch(
  db: Kysely<DB>,
  caller: AuditContext,
  id: string,
  input: { note: string },
  now: Date,
): Promise<PaymentMismatch> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('paymentMismatches').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!row) throw notFound('The payment mismatch', 'id');
    if (row.resolvedAt) throw new AppError('conflict', `This mismatch was already resolved (${row.resolvedBy ?? 'unknown'}).`, 'id');
    const resolvedBy =
      caller.principal.kind === 'user'
        ? caller.principal.userId
        : caller.principal.kind === 'service'
          ? caller.principal.serviceId
          : 'system';
    const updated = await trx
      .updateTable('paymentMismatches')
      .set({ resolvedAt: now, resolvedBy, resolutionNote: input.note })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, caller, {
      action: 'payment.mismatch_resolve',
      resourceType: 'payment_mismatch',
      resourceId: id,
      reason: input.note,
      before: { resolvedAt: null, kind: row.kind, bookingId: row.bookingId },
      after: { resolvedAt: now.toISOString(), resolvedBy },
      metadata: { bookingId: row.bookingId, kind: row.kind },
    });
    return toMismatch(updated as MismatchRow);
  });
}
