import { pruneAvailability } from '../availability/prune-availability.ts';
import { findHoldState, releaseExpiredHolds } from '../booking/release-expired-holds.ts';
import { expireCredits } from '../credits/expire-credits.ts';
import { createPaymentJobHandlers } from '../payments/job-handlers.ts';
import { createOfflinePaymentProvider } from '../payments/providers/index.ts';
import { reconcilePayments } from '../payments/reconcile/index.ts';
import { unlockReferralRewards } from '../referrals/unlock-referral-rewards.ts';
import { processTipPayment } from '../tips/process-tip-payment.ts';
import type { PaymentProvider } from '../payments/provider.ts';
import { evaluateAllInstructorTiers } from '../pricing/index.ts';
import { learnRegionAliases } from '../search/alias-learning.ts';
import { rollupSearchAnalytics } from '../search/analytics.ts';
import type { Redis } from '../shared/redis.ts';
import type { JobHandlers } from './start-worker.ts';

/** What job handlers need beyond the database and the job context, built once per process. */
export interface CoreHandlerDeps {
  /**
   * The configured payment provider (server.ts/worker.ts pass it). Absent only in tests that build
   * handlers without one: use `deps.payments ?? createOfflinePaymentProvider(db, { clock: context.clock })`.
   */
  readonly payments?: PaymentProvider;
  /** The shared Redis when configured: payment jobs take the same money locks as the API. */
  readonly redis?: Redis | undefined;
}

/**
 * The handlers this codebase has so far, by job name. A domain that builds one of the scheduled
 * jobs adds its handler here; until then its schedule shows as disabled in monitoring.
 */
export function createCoreHandlers(deps: CoreHandlerDeps = {}): JobHandlers {
  return {
    ...createPaymentJobHandlers(deps),
    'booking.hold-expiry': async (db, { bookingId }, context) => {
      const hold = await findHoldState(db, bookingId);
      if (!hold || hold.status !== 'pending_payment') return { outcome: 'not_pending' };
      if (!hold.holdExpiresAt) return { outcome: 'no_hold' };
      if (hold.holdExpiresAt.getTime() > context.clock.now().getTime()) {
        // The hold was extended (or this clock runs behind the database's): come back at the new expiry.
        await context.queue.schedule(db, 'booking.hold-expiry', { bookingId }, hold.holdExpiresAt);
        return { outcome: 'rescheduled', holdExpiresAt: hold.holdExpiresAt.toISOString() };
      }
      const { result, replayed } = await context.effect('release', async (trx) => {
        const released = await releaseExpiredHolds(trx, context.clock.now(), { bookingIds: [bookingId] });
        // An expired checkout may hold reserved credits (or a late authorization): settle it.
        for (const booking of released) await context.queue.send(trx, 'payments.settle-booking', { bookingId: booking.id });
        return { released: released.map((booking) => booking.id) };
      });
      return { outcome: 'released', ...result, replayed };
    },

    'booking.hold-expiry-sweep': async (_db, _run, context) => {
      const { result, replayed } = await context.effect('release', async (trx) => {
        const released = await releaseExpiredHolds(trx, context.clock.now());
        for (const booking of released) await context.queue.send(trx, 'payments.settle-booking', { bookingId: booking.id });
        return { released: released.length, bookingIds: released.slice(0, 50).map((booking) => booking.id) };
      });
      return { ...result, replayed };
    },

    // Daily: rises at once, one-step drops after 30 days at a tier, reset after 90 idle days (pricing/tiers.ts).
    'pricing.evaluate-tiers': async (_db, _run, context) => {
      const { result, replayed } = await context.effect('evaluate', (trx) => evaluateAllInstructorTiers(trx, context.clock.now()));
      return { ...result, replayed };
    },

    // Daily: unreserved credit past its 1-year expiry (credits/expire-credits.ts).
    'credits.expire': async (_db, _run, context) => {
      const { result, replayed } = await context.effect('expire', (trx) => expireCredits(trx, context.clock.now()));
      return { ...result, replayed };
    },

    // Every 15 minutes; idempotent per reward (payouts under 'referral-payout:{rewardId}:1').
    'referrals.unlock-rewards': async (db, _run, context) => {
      const payments = deps.payments ?? createOfflinePaymentProvider(db, { clock: context.clock });
      return { ...(await unlockReferralRewards(db, { payments, clock: context.clock })) };
    },

    // Charge then transfer; provider keys 'tip-charge:{tipId}:1' and 'tip-transfer:{tipId}:1'.
    'tips.process-payment': async (db, { tipId }, context) => {
      const payments = deps.payments ?? createOfflinePaymentProvider(db, { clock: context.clock });
      return processTipPayment(db, tipId, { payments, clock: context.clock });
    },

    // Hourly: per-query search statistics of the last 72 hours (late clicks and bookings still count).
    'search.analytics-rollup': async (_db, _run, context) => {
      const { result, replayed } = await context.effect('rollup', (trx) => rollupSearchAnalytics(trx, context.clock.now()));
      return { ...result, replayed };
    },

    // Daily: location phrases whose clicks agree on a region become aliases (spec: search §5).
    'search.alias-learning': async (_db, _run, context) => {
      const { result, replayed } = await context.effect('learn', async (trx) => {
        const outcome = await learnRegionAliases(trx, context.clock.now());
        return { learned: outcome.learned, inconclusive: outcome.inconclusive.length, refreshed: outcome.refreshed };
      });
      return { ...result, replayed };
    },

    // Hourly: mismatches between our payment records and the provider's, and webhook events
    // recorded but never applied (payments/reconcile). Reads only; never moves money.
    'payments.reconcile-stripe': async (db, _run, context) => {
      const payments = deps.payments ?? createOfflinePaymentProvider(db, { clock: context.clock });
      return { ...(await reconcilePayments(db, { payments, clock: context.clock, logger: context.logger })) };
    },

    // Only availability bitmaps have a retention rule so far; other domains add their purges here.
    'retention.data-purge': async (_db, _run, context) => {
      const { result, replayed } = await context.effect('prune-availability', (trx) => pruneAvailability(trx, context.clock.now()));
      return { availability: result, replayed };
    },
  };
}
