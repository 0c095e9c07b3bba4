import { findPayoutAccount, updateBookingPayment } from './booking-payments.queries.ts';
import type { MoneyDeps } from './money-deps.ts';
import type { MoneyLock } from './money-lock.ts';
import { callProvider, finishOperation, type MoneyActor, recordMoneyChange, SYSTEM_ACTOR } from './operations.ts';
import { loadMoneyState } from './payment-state.ts';

export type TransferOutcome =
  | { status: 'transferred'; transferId: string; amountCents: number }
  /** Kept owed: no connected account with payouts enabled yet, or the provider refused; the sweep retries. */
  | { status: 'owed'; reason: string }
  | { status: 'skipped'; reason: string };

/**
 * Pays the instructor their settled share by a separate transfer from the platform balance
 * (spec: separate charges and transfers, so a LOCK never needs a reversal), for a caller holding
 * the money lock. Only to a connected account with payouts enabled; otherwise the payout stays
 * owed (`settlement_instructor_payout_cents` > `transferred_cents`) and the capture sweep tries
 * again. Key `transfer:{bookingId}:1` (`advance-payout:…` when the platform advances it after a
 * failed capture); a refused transfer takes the next attempt number.
 */
export async function transferLocked(lock: MoneyLock, deps: MoneyDeps, options: { actor?: MoneyActor } = {}): Promise<TransferOutcome> {
  const actor = options.actor ?? SYSTEM_ACTOR;
  const bookingId = lock.bookingId;
  const prepared = await lock.transaction(async (trx) => {
    const { booking, payment } = await loadMoneyState(trx, bookingId);
    if (!payment) return { skip: 'no_payment' };
    const amountCents = payment.settlementInstructorPayoutCents ?? 0;
    if (amountCents <= 0) return { skip: 'nothing_owed' };
    if (payment.transferredAt) return { skip: 'already_transferred' };
    if (!payment.capturedAt && !payment.payoutAdvancedAt) return { skip: 'not_funded' };
    const account = await findPayoutAccount(trx, booking.instructorId);
    if (!account?.stripeAccountId || !account.payoutsEnabled) return { owed: 'no_payout_account' };
    if (account.payoutProvider && account.payoutProvider !== deps.payments.name) return { owed: 'payout_account_at_other_provider' };
    return {
      amountCents,
      destinationAccountId: account.stripeAccountId,
      advanced: !payment.capturedAt,
      chargeId: payment.chargeId,
    };
  });
  if ('skip' in prepared) return { status: 'skipped', reason: prepared.skip ?? 'unknown' };
  if ('owed' in prepared) return { status: 'owed', reason: prepared.owed ?? 'unknown' };

  const purpose = prepared.advanced ? 'advance-payout' : 'transfer';
  const outcome = await callProvider(lock, deps, {
    purpose,
    attempt: 'next',
    amountCents: prepared.amountCents,
    userId: null,
    request: {
      amountCents: prepared.amountCents,
      destinationAccountId: prepared.destinationAccountId,
      sourceChargeId: prepared.advanced ? null : prepared.chargeId,
    },
    // (a payout another process sent since `prepared` must not go out again under the next key)
    stillNeeded: async (trx) => !(await loadMoneyState(trx, bookingId)).payment?.transferredAt,
    call: (key, request) =>
      deps.payments.transfer(
        {
          amountCents: Number(request.amountCents),
          destinationAccountId: String(request.destinationAccountId),
          transferGroup: `booking:${bookingId}`,
          ...(typeof request.sourceChargeId === 'string' ? { sourceChargeId: request.sourceChargeId } : {}),
          description: prepared.advanced ? `Advanced payout for lesson ${bookingId}` : `Payout for lesson ${bookingId}`,
          metadata: { bookingId, purpose },
        },
        key,
      ),
  });
  if (outcome.kind === 'already_done') return { status: 'skipped', reason: 'already_done' };
  return lock.transaction(async (trx): Promise<TransferOutcome> => {
    const now = deps.clock.now();
    if (outcome.kind === 'rejected') {
      const finished = await finishOperation(
        trx,
        outcome.operation,
        {
          status: 'failed',
          errorCode: outcome.error.options.code ?? 'provider_rejected',
          errorMessage: outcome.error.message,
          response: null,
        },
        now,
      );
      if (!finished) return { status: 'owed', reason: 'transfer_refused' };
      await recordMoneyChange(trx, actor, {
        bookingId,
        event: 'payout_transfer_failed',
        action: 'payment.transfer',
        outcome: 'failure',
        data: {
          provider: deps.payments.name,
          offline: deps.payments.offline,
          error: outcome.error.message,
          idempotencyKey: outcome.operation.idempotencyKey,
        },
        now,
      });
      return { status: 'owed', reason: 'transfer_refused' };
    }
    const { transferId } = outcome.value;
    const amountCents = outcome.operation.amountCents ?? prepared.amountCents;
    if (
      !(await finishOperation(trx, outcome.operation, { status: 'succeeded', providerObjectId: transferId, response: outcome.value }, now))
    ) {
      return { status: 'skipped', reason: 'already_done' };
    }
    await updateBookingPayment(trx, bookingId, { transferId, transferredCents: amountCents, transferredAt: now }, now);
    await recordMoneyChange(trx, actor, {
      bookingId,
      event: prepared.advanced ? 'payout_advanced' : 'payout_transferred',
      action: 'payment.transfer',
      data: {
        provider: deps.payments.name,
        offline: deps.payments.offline,
        amountCents,
        transferId,
        destinationAccountId: prepared.destinationAccountId,
        advanced: prepared.advanced,
        idempotencyKey: outcome.operation.idempotencyKey,
      },
      now,
    });
    return { status: 'transferred', transferId, amountCents };
  });
}
