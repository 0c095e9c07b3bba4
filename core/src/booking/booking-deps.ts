import type { AuditContext } from '../audit/record-audit.ts';
import type { Principal } from '../auth/principal.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Clock } from '../shared/clock.ts';
import type { BookingAccess } from './booking.queries.ts';

/** What the booking use cases need besides the database, built once at start-up. */
export interface BookingDeps {
  clock: Clock;
  jobs: Pick<JobQueue, 'send'>;
}

/** The request's audit context, which also names the caller. */
export type BookingCaller = AuditContext;

/** Object-level access of a principal: the parties see their bookings; staff with read:any see all. */
export function accessOf(principal: Principal): BookingAccess {
  return { userId: principal.kind === 'user' ? principal.userId : null, readAny: principal.permissions.has('bookings:read:any') };
}

/** The actor recorded on a booking event. */
export function eventActor(principal: Principal): { type: 'user' | 'service' | 'system'; id: string | null } {
  if (principal.kind === 'user') return { type: 'user', id: principal.userId };
  if (principal.kind === 'service') return { type: 'service', id: principal.serviceId };
  return { type: 'system', id: null };
}
