import type { DB } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import { recordAudit, SYSTEM_CONTEXT } from '../../audit/record-audit.ts';
import { insertBookingEvents, updateBooking } from '../../booking/booking.queries.ts';
import type { Clock } from '../../shared/clock.ts';
import { AppError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { applyProviderPaymentUpdate } from '../apply-provider-update.ts';
import { saveCardFromSetupIntent } from '../payment-methods/payment-methods.ts';
import { syncPayoutAccountState } from '../payout-accounts/payout-accounts.ts';
import { type PaymentProvider, PaymentProviderError } from '../provider.ts';
import { type StripeEvent, verifyStripeWebhook } from '../providers/stripe-provider.ts';

/** Stripe's own default, and the spec's: a signature older than 5 minutes is refused (replays). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** The fault-injection step between recording an event and applying it (spec R7). */
export const FAULT_AFTER_RECORD = 'webhook.after-record';

export interface WebhookDeps {
  payments: PaymentProvider;
  clock: Clock;
  /** STRIPE_WEBHOOK_SECRET; without it nothing can be verified and every delivery is refused (Stripe retries for 3 days). */
  webhookSecret: string | undefined;
  faultSteps?: ReadonlySet<string>;
  logger?: Logger | undefined;
}

export interface WebhookReceipt {
  eventId: string;
  type: string;
  /** This event id was received before. */
  duplicate: boolean;
  /** What applying it did: applied, no_change, unmatched, ignored… (or the first outcome for a duplicate). */
  outcome: string;
}

/** The part of an event we keep and act on (the stored payload is the event as received). */
interface StoredEvent {
  id: string;
  type: string;
  objectId: string | null;
  livemode: boolean;
  payload: { data?: { object?: Record<string, any> } };
}

/**
 * Receives one Stripe webhook: verifies the signature on the raw body (5-minute tolerance, on the
 * injected clock), records `event.id` under its unique key BEFORE acting, then applies it. A
 * duplicate of a processed event changes nothing; an event recorded but never applied (a handler
 * killed in between) is applied by the next delivery or by the reconciliation sweep. Applying
 * re-reads the object from the provider, so order and repetition of events do not matter.
 */
export async function receiveStripeWebhook(
  db: Kysely<DB>,
  deps: WebhookDeps,
  input: { rawBody: Buffer; signature: string | undefined },
): Promise<WebhookReceipt> {
  if (!deps.webhookSecret) {
    // A 4xx, not a 5xx: the request is not verifiable here; Stripe still retries it for 3 days.
    throw new AppError('invalid_signature', 'Stripe webhooks cannot be verified here: STRIPE_WEBHOOK_SECRET is not set.');
  }
  if (!input.signature) throw new AppError('invalid_signature', 'The Stripe-Signature header is missing.');
  let event: StripeEvent;
  try {
    event = verifyStripeWebhook(input.rawBody, input.signature, deps.webhookSecret, {
      toleranceSeconds: WEBHOOK_TOLERANCE_SECONDS,
      now: deps.clock.now(),
    });
  } catch {
    throw new AppError('invalid_signature', 'The Stripe-Signature does not match this body and secret, or it is more than 5 minutes old.');
  }
  const object = (event.data?.object ?? {}) as { id?: unknown };
  const stored: StoredEvent = {
    id: event.id,
    type: event.type,
    objectId: typeof object.id === 'string' ? object.id : null,
    livemode: event.livemode,
    payload: JSON.parse(input.rawBody.toString('utf8')) as StoredEvent['payload'],
  };
  const recorded = await recordWebhookEvent(db, stored, event.api_version ?? null, deps.clock.now());
  if (recorded.processedAt) {
    return { eventId: event.id, type: event.type, duplicate: true, outcome: recorded.outcome ?? 'processed' };
  }
  if (deps.faultSteps?.has(FAULT_AFTER_RECORD)) throw new Error(`fault injected at ${FAULT_AFTER_RECORD}`);
  const outcome = await processRecordedEvent(db, deps, stored);
  return { eventId: event.id, type: event.type, duplicate: recorded.receiveCount > 1, outcome };
}

/** Inserts the event under its id, or counts one more delivery of it. */
async function recordWebhookEvent(
  db: Kysely<DB>,
  event: StoredEvent,
  apiVersion: string | null,
  now: Date,
): Promise<{ processedAt: Date | null; outcome: string | null; receiveCount: number }> {
  return db
    .insertInto('webhookEvents')
    .values({
      id: event.id,
      provider: 'stripe',
      type: event.type,
      objectId: event.objectId,
      apiVersion,
      livemode: event.livemode,
      payload: JSON.stringify(event.payload),
      receivedAt: now,
    })
    .onConflict((conflict) => conflict.column('id').doUpdateSet({ receiveCount: sql<number>`webhook_events.receive_count + 1` }))
    .returning(['processedAt', 'outcome', 'receiveCount'])
    .executeTakeFirstOrThrow();
}

/**
 * Applies a recorded event and marks it processed. Failures are written on the event
 * (`processing_error`) and rethrown, so the delivery fails and Stripe (or the sweep) tries again.
 */
async function processRecordedEvent(db: Kysely<DB>, deps: WebhookDeps, event: StoredEvent): Promise<string> {
  let outcome: string;
  try {
    outcome = await applyEvent(db, deps, event);
  } catch (error) {
    await db
      .updateTable('webhookEvents')
      .set({ processingError: (error as Error).message.slice(0, 1000) })
      .where('id', '=', event.id)
      .execute();
    if (error instanceof PaymentProviderError && error.retryable) {
      throw new AppError(
        'unavailable',
        'Stripe could not be asked about this event just now; it will be applied on the next delivery.',
        null,
        30,
      );
    }
    throw error;
  }
  await db
    .updateTable('webhookEvents')
    .set({ processedAt: deps.clock.now(), outcome, processingError: null })
    .where('id', '=', event.id)
    .where('processedAt', 'is', null)
    .execute();
  return outcome;
}

async function applyEvent(db: Kysely<DB>, deps: WebhookDeps, event: StoredEvent): Promise<string> {
  const object = event.payload.data?.object ?? {};
  if (event.type === 'charge.dispute.created') {
    return openDisputeReview(db, deps, {
      disputeId: String(object.id),
      chargeId: typeof object.charge === 'string' ? object.charge : null,
      paymentIntentId: typeof object.payment_intent === 'string' ? object.payment_intent : null,
      reason: typeof object.reason === 'string' ? object.reason : 'unknown',
      amountCents: typeof object.amount === 'number' ? object.amount : null,
    });
  }
  if (event.type.startsWith('payment_intent.') || (event.type.startsWith('charge.') && !event.type.startsWith('charge.dispute.'))) {
    const paymentIntentId = event.type.startsWith('payment_intent.')
      ? event.objectId
      : typeof object.payment_intent === 'string'
        ? object.payment_intent
        : null;
    if (!paymentIntentId) return 'unmatched';
    // Order is not guaranteed: the object as Stripe has it now, not as the event described it.
    const state = await retrieveOrNull(() => deps.payments.retrievePaymentIntent(paymentIntentId));
    if (!state) return 'unmatched';
    const result = await applyProviderPaymentUpdate(db, { clock: deps.clock }, state);
    if (!result.bookingId) return 'unmatched';
    return result.changes.length > 0 ? 'applied' : 'no_change';
  }
  if (event.type === 'account.updated') {
    if (!event.objectId) return 'unmatched';
    const accountId = event.objectId;
    const state = await retrieveOrNull(() => deps.payments.retrieveAccount(accountId));
    if (!state) return 'unmatched';
    const { userId, changed } = await syncPayoutAccountState(db, state, deps.clock.now());
    if (!userId) return 'unmatched';
    return changed ? 'applied' : 'no_change';
  }
  if (event.type === 'setup_intent.succeeded') {
    if (!event.objectId) return 'unmatched';
    const saved = await saveCardFromSetupIntent(db, event.objectId, { payments: deps.payments, clock: deps.clock });
    return saved === 'saved' ? 'applied' : saved === 'already_saved' ? 'no_change' : 'unmatched';
  }
  return 'ignored';
}

/** The provider's object, or null when it does not know it (another account's, or deleted). */
async function retrieveOrNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (
      error instanceof PaymentProviderError &&
      !error.retryable &&
      (error.options.code === 'resource_missing' || error.options.statusCode === 404)
    )
      return null;
    throw error;
  }
}

/**
 * A chargeback: the booking's payment goes to `manual_review` at once (audited, on the
 * timeline) so nothing more is captured, transferred or refunded until an admin decides.
 */
async function openDisputeReview(
  db: Kysely<DB>,
  deps: WebhookDeps,
  dispute: { disputeId: string; chargeId: string | null; paymentIntentId: string | null; reason: string; amountCents: number | null },
): Promise<string> {
  return db.transaction().execute(async (trx) => {
    let query = trx.selectFrom('bookingPayments').select(['bookingId', 'manualReviewReason']);
    if (dispute.paymentIntentId && dispute.chargeId) {
      query = query.where((eb) => eb.or([eb('paymentIntentId', '=', dispute.paymentIntentId), eb('chargeId', '=', dispute.chargeId)]));
    } else if (dispute.paymentIntentId) {
      query = query.where('paymentIntentId', '=', dispute.paymentIntentId);
    } else if (dispute.chargeId) {
      query = query.where('chargeId', '=', dispute.chargeId);
    } else {
      return 'unmatched';
    }
    const found = await query.executeTakeFirst();
    if (!found) return 'unmatched';
    const booking = await trx
      .selectFrom('bookings')
      .select(['id', 'paymentStatus'])
      .where('id', '=', found.bookingId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const payment = await trx
      .selectFrom('bookingPayments')
      .select(['manualReviewReason'])
      .where('bookingId', '=', booking.id)
      .executeTakeFirstOrThrow();
    const marker = `dispute ${dispute.disputeId}`;
    if (booking.paymentStatus === 'manual_review' && payment.manualReviewReason?.includes(marker)) return 'no_change';
    const now = deps.clock.now();
    const reason = [payment.manualReviewReason, `${marker} (${dispute.reason})`].filter(Boolean).join('; ');
    await updateBooking(trx, booking.id, { paymentStatus: 'manual_review', updatedAt: now });
    await trx
      .updateTable('bookingPayments')
      .set({ manualReviewReason: reason, updatedAt: now })
      .where('bookingId', '=', booking.id)
      .execute();
    const data = {
      disputeId: dispute.disputeId,
      reason: dispute.reason,
      amountCents: dispute.amountCents,
      chargeId: dispute.chargeId,
      paymentIntentId: dispute.paymentIntentId,
    };
    await insertBookingEvents(trx, booking.id, [{ type: 'payment_disputed', data }], { type: 'system', id: null }, now);
    await recordAudit(trx, SYSTEM_CONTEXT, {
      action: 'payment.dispute_opened',
      resourceType: 'booking',
      resourceId: booking.id,
      before: { paymentStatus: booking.paymentStatus },
      after: { paymentStatus: 'manual_review', manualReviewReason: reason },
      metadata: data,
    });
    return 'applied';
  });
}

/**
 * Applies events that were recorded but never processed (the handler died, or applying failed)
 * and are older than `olderThanMs` — run by the reconciliation job. Oldest first, at most `limit`.
 */
export async function reapplyUnprocessedWebhookEvents(
  db: Kysely<DB>,
  deps: WebhookDeps,
  options: { olderThanMs: number; limit?: number },
): Promise<{ reapplied: number; failed: number }> {
  const cutoff = new Date(deps.clock.now().getTime() - options.olderThanMs);
  const rows = await db
    .selectFrom('webhookEvents')
    // the payload as text: Kysely's CamelCasePlugin would rewrite Stripe's snake_case keys
    .select(['id', 'type', 'objectId', 'livemode', sql<string>`payload::text`.as('payloadText')])
    .where('processedAt', 'is', null)
    .where('provider', '=', 'stripe')
    .where('receivedAt', '<=', cutoff)
    .orderBy('receivedAt')
    .limit(options.limit ?? 200)
    .execute();
  let reapplied = 0;
  let failed = 0;
  for (const row of rows) {
    try {
      await processRecordedEvent(db, deps, { ...row, payload: JSON.parse(row.payloadText) as StoredEvent['payload'] });
      reapplied += 1;
    } catch (error) {
      failed += 1;
      deps.logger?.warn({ eventId: row.id, err: { message: (error as Error).message } }, 'could not re-apply a Stripe webhook event');
    }
  }
  return { reapplied, failed };
}
