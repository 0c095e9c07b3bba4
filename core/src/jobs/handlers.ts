import { pruneAvailability } from '../availability/prune-availability.ts';
import { findHoldState, releaseExpiredHolds } from '../booking/release-expired-holds.ts';
import type { JobHandlers } from './start-worker.ts';

/**
 * The handlers this codebase has so far, by job name. A domain that builds one of the scheduled
 * jobs adds its handler here; until then its schedule shows as disabled in monitoring.
 */
export function createCoreHandlers(): JobHandlers {
  return {
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
        return { released: released.map((booking) => booking.id) };
      });
      return { outcome: 'released', ...result, replayed };
    },

    'booking.hold-expiry-sweep': async (_db, _run, context) => {
      const { result, replayed } = await context.effect('release', async (trx) => {
        const released = await releaseExpiredHolds(trx, context.clock.now());
        return { released: released.length, bookingIds: released.slice(0, 50).map((booking) => booking.id) };
      });
      return { ...result, replayed };
    },

    // Only availability bitmaps have a retention rule so far; other domains add their purges here.
    'retention.data-purge': async (_db, _run, context) => {
      const { result, replayed } = await context.effect('prune-availability', (trx) => pruneAvailability(trx, context.clock.now()));
      return { availability: result, replayed };
    },
  };
}
