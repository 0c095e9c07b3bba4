import { addRefund } from './booking-payments.queries.ts';
import type { MoneyDeps } from './money-deps.ts';
import type { MoneyLock } from './money-lock.ts';
import { callProvider, finishOperation, type MoneyActor, recordMoneyChange, SYSTEM_ACTOR } from './operations.ts';
import { loadMoneyState } from './payment-state.ts';

export type RefundOutcome =
  | { status: 'refunded'; refundId: string; amountCents: number; providerStatus: 'succeeded' | 'pending' }
  | { status: 'failed'; reason: string }
  | { status: 'skipped'; reason: string };

/**
 * Refunds captured money to the card (`refund:{bookingId}:{n}`, one attempt number per refund),
 * for a caller holding the money lock. Never more than what is captured and not yet refunded.
 */
export async function refundLocked(
  lock: MoneyLock,
  deps: MoneyDeps,
  input: { amountCents: number; reason: string; actor?: MoneyActor },
): Promise<RefundOutcome> {
  const actor = input.actor ?? SYSTEM_ACTOR;
  const bookingId = lock.bookingId;
  const prepared = await lock.transaction(async (trx) => {
    const { payment } = await loadMoneyState(trx, bookingId);
    if (!payment?.paymentIntentId || !payment.capturedAt) return null;
    return { paymentIntentId: payment.paymentIntentId, refundable: payment.capturedCents - payment.refundedCents };
  });
  if (!prepared) return { status: 'skipped', reason: 'nothing_captured' };
  const amountCents = Math.min(input.amountCents, prepared.refundable);
  if (amountCents <= 0) return { status: 'skipped', reason: 'nothing_refundable' };

  const outcome = await callProvider(lock, deps, {
    purpose: 'refund',
    attempt: 'next',
    amountCents,
    userId: null,
    request: { paymentIntentId: prepared.paymentIntentId, amountCents, reason: input.reason },
    call: (key, request) =>
      deps.payments.refund(
        {
          paymentIntentId: String(request.paymentIntentId),
          amountCents: Number(request.amountCents),
          reason: 'requested_by_customer',
          metadata: { bookingId, reason: String(request.reason ?? input.reason) },
        },
        key,
      ),
  });
  if (outcome.kind === 'already_done') return { status: 'skipped', reason: 'already_done' };
  // a resumed refund is the first one's amount, whatever was asked this time
  const refundedCents = outcome.operation.amountCents ?? amountCents;
  return lock.transaction(async (trx): Promise<RefundOutcome> => {
    const now = deps.clock.now();
    if (outcome.kind === 'rejected' || outcome.value.status === 'failed') {
      const message = outcome.kind === 'rejected' ? outcome.error.message : 'The refund failed at the provider.';
      const finished = await finishOperation(
        trx,
        outcome.operation,
        {
          status: 'failed',
          errorCode: outcome.kind === 'rejected' ? (outcome.error.options.code ?? 'provider_rejected') : 'refund_failed',
          errorMessage: message,
          response: outcome.kind === 'answered' ? outcome.value : null,
          providerObjectId: outcome.kind === 'answered' ? outcome.value.refundId : null,
        },
        now,
      );
      if (!finished) return { status: 'failed', reason: message };
      await recordMoneyChange(trx, actor, {
        bookingId,
        event: 'payment_refund_failed',
        action: 'payment.refund',
        outcome: 'failure',
        data: {
          provider: deps.payments.name,
          offline: deps.payments.offline,
          amountCents: refundedCents,
          error: message,
          idempotencyKey: outcome.operation.idempotencyKey,
        },
        reason: input.reason,
        now,
      });
      return { status: 'failed', reason: message };
    }
    const { refundId, status } = outcome.value;
    // (another process that resumed the same refund counted it already)
    if (
      !(await finishOperation(trx, outcome.operation, { status: 'succeeded', providerObjectId: refundId, response: outcome.value }, now))
    ) {
      return { status: 'skipped', reason: 'already_done' };
    }
    await addRefund(trx, bookingId, { amountCents: refundedCents, refundId }, now);
    await recordMoneyChange(trx, actor, {
      bookingId,
      event: 'payment_refunded',
      action: 'payment.refund',
      data: {
        provider: deps.payments.name,
        offline: deps.payments.offline,
        amountCents: refundedCents,
        refundId,
        providerStatus: status,
        paymentIntentId: prepared.paymentIntentId,
        idempotencyKey: outcome.operation.idempotencyKey,
      },
      reason: input.reason,
      now,
    });
    return { status: 'refunded', refundId, amountCents: refundedCents, providerStatus: status };
  });
}
