import type { DB } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import { recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { insertBookingEvents } from '../booking/booking.queries.ts';
import { idempotencyKey } from '../payments/idempotency-keys.ts';
import { type AuthorizeResult, type PaymentProvider, PaymentProviderError } from '../payments/provider.ts';
import { callProviderRecorded } from '../payments/providers/record-operation.ts';
import type { Clock } from '../shared/clock.ts';
import type { TipStatus } from './get-review.ts';

const SYSTEM = { type: 'system' as const, id: null };

/**
 * The 'tips.process-payment' job: charges the tip to the student's saved card (key
 * `tip-charge:{tipId}:1`), then transfers 100% of it to the instructor's connected account
 * (`tip-transfer:{tipId}:1`, from the tip's own charge). Each provider call is written to
 * payment_operations before it is made, so a crash between the call and the record is retried
 * under the same key and the provider answers with the first result: never charged or paid twice.
 * A decline ends the tip as `failed`; transport failures throw so the job retries.
 */
export async function processTipPayment(
  db: Kysely<DB>,
  tipId: string,
  deps: { payments: PaymentProvider; clock: Clock },
): Promise<{ tipId: string; status: TipStatus }> {
  let tip = await loadTip(db, tipId);
  if (!tip) return { tipId, status: 'failed' };
  if (tip.status === 'pending') {
    await charge(db, tip, deps);
    tip = (await loadTip(db, tipId))!;
  }
  if (tip.status === 'charged') {
    await transfer(db, tip, deps);
    tip = (await loadTip(db, tipId))!;
  }
  return { tipId, status: tip.status as TipStatus };
}

type TipRow = NonNullable<Awaited<ReturnType<typeof loadTip>>>;

async function loadTip(db: Kysely<DB>, tipId: string) {
  return db
    .selectFrom('tips as t')
    .leftJoin('paymentMethods as m', 'm.id', 't.paymentMethodId')
    .selectAll('t')
    .select('m.providerPaymentMethodId')
    .where('t.id', '=', tipId)
    .executeTakeFirst();
}

async function charge(db: Kysely<DB>, tip: TipRow, deps: { payments: PaymentProvider; clock: Clock }): Promise<void> {
  const key = idempotencyKey('tip-charge', tip.id, 1);
  if (!tip.providerPaymentMethodId || !tip.customerId) {
    await finishTip(db, tip, deps.clock.now(), {
      status: 'failed',
      failureCode: 'payment_method_missing',
      failureMessage: 'The saved card is no longer on file.',
    });
    return;
  }
  const request = {
    amountCents: tip.amountCents,
    customerId: tip.customerId,
    paymentMethodId: tip.providerPaymentMethodId,
    description: 'InstaInstru lesson tip',
    metadata: { purpose: 'tip', tipId: tip.id, bookingId: tip.bookingId },
    transferGroup: `tip:${tip.id}`,
  };
  let result: AuthorizeResult;
  try {
    result = await callProviderRecorded(
      db,
      {
        provider: deps.payments.name,
        purpose: 'tip-charge',
        idempotencyKey: key,
        userId: tip.studentId,
        bookingId: tip.bookingId,
        amountCents: tip.amountCents,
        request,
      },
      () => deps.payments.charge(request, key),
      (answer) =>
        answer.status === 'failed'
          ? { status: 'failed', providerObjectId: answer.paymentIntentId, errorCode: answer.code, errorMessage: answer.message }
          : { status: 'succeeded', providerObjectId: answer.paymentIntentId },
      () => deps.clock.now(),
    );
  } catch (error) {
    if (error instanceof PaymentProviderError && !error.retryable) {
      await finishTip(db, tip, deps.clock.now(), {
        status: 'failed',
        failureCode: error.options.code ?? 'provider_error',
        failureMessage: error.message,
      });
      return;
    }
    throw error;
  }
  if (result.status === 'failed') {
    await finishTip(db, tip, deps.clock.now(), {
      status: 'failed',
      failureCode: result.code,
      failureMessage: result.message,
      paymentIntentId: result.paymentIntentId,
    });
    return;
  }
  await finishTip(db, tip, deps.clock.now(), {
    status: 'charged',
    paymentIntentId: result.paymentIntentId,
    chargeId: result.chargeId,
    idempotencyKey: key,
  });
}

async function transfer(db: Kysely<DB>, tip: TipRow, deps: { payments: PaymentProvider; clock: Clock }): Promise<void> {
  const key = idempotencyKey('tip-transfer', tip.id, 1);
  // The destination was fixed when the tip was made, so a retry sends the same parameters.
  const destination = tip.destinationAccountId;
  if (!destination) throw new Error(`Tip ${tip.id} has no destination account`);
  const request = {
    amountCents: tip.amountCents,
    destinationAccountId: destination,
    transferGroup: `tip:${tip.id}`,
    ...(tip.chargeId ? { sourceChargeId: tip.chargeId } : {}),
    description: 'InstaInstru lesson tip (100% to the instructor)',
    metadata: { purpose: 'tip', tipId: tip.id, bookingId: tip.bookingId },
  };
  const { transferId } = await callProviderRecorded(
    db,
    {
      provider: deps.payments.name,
      purpose: 'tip-transfer',
      idempotencyKey: key,
      userId: tip.instructorId,
      bookingId: tip.bookingId,
      amountCents: tip.amountCents,
      request,
    },
    () => deps.payments.transfer(request, key),
    (answer) => ({ status: 'succeeded', providerObjectId: answer.transferId }),
    () => deps.clock.now(),
  );
  await finishTip(db, tip, deps.clock.now(), { status: 'transferred', transferId, idempotencyKey: key });
}

async function finishTip(
  db: Kysely<DB>,
  tip: TipRow,
  now: Date,
  change: {
    status: TipStatus;
    failureCode?: string;
    failureMessage?: string;
    paymentIntentId?: string | null;
    chargeId?: string | null;
    transferId?: string;
    idempotencyKey?: string;
  },
): Promise<void> {
  await db.transaction().execute(async (trx: Transaction<DB>) => {
    const updated = await trx
      .updateTable('tips')
      .set({
        status: change.status,
        updatedAt: now,
        ...(change.failureCode ? { failureCode: change.failureCode, failureMessage: change.failureMessage ?? null } : {}),
        ...(change.paymentIntentId !== undefined ? { paymentIntentId: change.paymentIntentId } : {}),
        ...(change.chargeId !== undefined ? { chargeId: change.chargeId } : {}),
        ...(change.status === 'charged' ? { chargedAt: now } : {}),
        ...(change.transferId ? { transferId: change.transferId, transferredAt: now } : {}),
      })
      .where('id', '=', tip.id)
      .where('status', '=', tip.status)
      .returning('id')
      .executeTakeFirst();
    // Another attempt got here first (duplicate delivery): it recorded the same provider answer.
    if (!updated) return;
    const eventType = change.status === 'charged' ? 'tip_charged' : change.status === 'transferred' ? 'tip_transferred' : 'tip_failed';
    await insertBookingEvents(
      trx,
      tip.bookingId,
      [
        {
          type: eventType,
          data: { tipId: tip.id, amountCents: tip.amountCents, ...(change.failureCode ? { failureCode: change.failureCode } : {}) },
        },
      ],
      SYSTEM,
      now,
    );
    await recordAudit(trx, SYSTEM_CONTEXT, {
      action: change.status === 'transferred' ? 'tip.transfer' : 'tip.charge',
      resourceType: 'tip',
      resourceId: tip.id,
      before: { status: tip.status },
      after: {
        status: change.status,
        amountCents: tip.amountCents,
        paymentIntentId: change.paymentIntentId ?? tip.paymentIntentId,
        chargeId: change.chargeId ?? tip.chargeId,
        transferId: change.transferId ?? null,
        idempotencyKey: change.idempotencyKey ?? null,
        failureCode: change.failureCode ?? null,
      },
      outcome: change.status === 'failed' ? 'failure' : 'success',
    });
  });
}
