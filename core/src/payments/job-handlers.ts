import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import type { JobContext, JobHandlers } from '../jobs/start-worker.ts';
import type { Redis } from '../shared/redis.ts';
import { runAuthorizationJob, runAuthorizationRetrySweep, runAuthorizationSweep, runCaptureSweep } from './lifecycle.ts';
import type { MoneyDeps } from './money-deps.ts';
import type { PaymentProvider } from './provider.ts';
import { createOfflinePaymentProvider } from './providers/index.ts';
import { advanceBookingPayment } from './settle-booking.ts';

/** What the payment jobs need from the process: its provider and (when configured) the shared Redis for money locks. */
export interface PaymentJobDeps {
  readonly payments?: PaymentProvider | undefined;
  readonly redis?: Redis | undefined;
}

/**
 * The payment lifecycle's job handlers (definitions in jobs/definitions.ts). Provider calls are
 * made at most once per purpose through payment_operations (payments/operations.ts), not job
 * effects: the operation row is written before the call, so a retried job resumes it under the
 * same idempotency key.
 */
export function createPaymentJobHandlers(deps: PaymentJobDeps): JobHandlers {
  const moneyDeps = (db: Kysely<DB>, context: JobContext): MoneyDeps => ({
    payments: deps.payments ?? createOfflinePaymentProvider(db, { clock: context.clock }),
    clock: context.clock,
    jobs: context.queue,
    redis: deps.redis,
    logger: context.logger,
  });
  return {
    'payments.authorize': async (db, { bookingId }, context) => {
      const result = await runAuthorizationJob(db, moneyDeps(db, context), bookingId);
      if (result.outcome === 'not_due' && result.authorizeAt) {
        // The lesson moved later since this job was sent: come back at the new T−24h.
        await context.queue.schedule(db, 'payments.authorize', { bookingId }, new Date(result.authorizeAt));
      }
      return result;
    },
    'payments.settle-booking': async (db, { bookingId }, context) => ({
      ...(await advanceBookingPayment(db, moneyDeps(db, context), bookingId)),
    }),
    'payments.no-show-deadline': async (db, { bookingId }, context) => ({
      ...(await advanceBookingPayment(db, moneyDeps(db, context), bookingId)),
    }),
    'payments.authorization-sweep': async (db, _run, context) => ({ ...(await runAuthorizationSweep(db, moneyDeps(db, context))) }),
    'payments.authorization-retry': async (db, _run, context) => ({ ...(await runAuthorizationRetrySweep(db, moneyDeps(db, context))) }),
    'payments.capture-sweep': async (db, _run, context) => ({ ...(await runCaptureSweep(db, moneyDeps(db, context))) }),
  };
}
