import { type CreditLots, type CreditReservations, type DB, newId } from '@instainstru/db';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { AuditContext } from '../audit/record-audit.ts';
import { AppError } from '../shared/errors.ts';

/**
 * Every SQL statement about credit lots, reservations and the ledger. The one locking rule:
 * anything that changes a lot (or a reservation, which always belongs to a lot) first locks the
 * lots it touches with `for update`, in id order. One order everywhere means two transactions on
 * the same student's credits queue behind each other instead of deadlocking.
 */

type Executor = Kysely<DB> | Transaction<DB>;
export type LotRow = Selectable<CreditLots>;
export type ReservationRow = Selectable<CreditReservations>;

export type LedgerKind = 'grant' | 'reserve' | 'release' | 'consume' | 'expire' | 'revoke' | 'adjust';
export type CreditSource = 'cancellation' | 'loyalty' | 'referral' | 'admin' | 'reissue' | 'promo';
export const CREDIT_SOURCES: readonly CreditSource[] = ['cancellation', 'loyalty', 'referral', 'admin', 'reissue', 'promo'];

export interface LedgerActor {
  type: 'user' | 'service' | 'system';
  id: string | null;
}

export const SYSTEM_ACTOR: LedgerActor = { type: 'system', id: null };

/** The ledger actor of an audit context (system when absent). */
export function actorOf(context: AuditContext | undefined): LedgerActor {
  const principal = context?.principal;
  if (principal?.kind === 'user') return { type: 'user', id: principal.userId };
  if (principal?.kind === 'service') return { type: 'service', id: principal.serviceId };
  return SYSTEM_ACTOR;
}

/** One ledger entry; see the sign convention in db/migrations/0007_credits_referrals.ts. */
export interface LedgerEntry {
  userId: string;
  lotId: string;
  kind: LedgerKind;
  availableDeltaCents: number;
  reservedDeltaCents: number;
  bookingId?: string | null;
  reason: string;
}

/** Cents in a request: a whole, non-negative number (or positive with `positive`). */
export function assertCents(value: number, field: string, options: { positive?: boolean; allowNegative?: boolean } = {}): void {
  if (!Number.isSafeInteger(value)) throw new AppError('validation_error', `${field} must be a whole number of cents.`, field);
  if (!options.allowNegative && value < 0) throw new AppError('validation_error', `${field} cannot be negative.`, field);
  if (options.positive && value <= 0) throw new AppError('validation_error', `${field} must be more than zero.`, field);
}

/**
 * Writes entries and moves the lots' running totals by the same deltas. The lots must already be
 * locked by the caller (or be new). The lots' `>= 0` checks make an overdraft fail loudly.
 */
export async function writeEntries(trx: Transaction<DB>, entries: LedgerEntry[], actor: LedgerActor, at: Date): Promise<string[]> {
  if (entries.length === 0) return [];
  const rows = entries.map((entry, index) => ({
    id: newId(),
    userId: entry.userId,
    lotId: entry.lotId,
    kind: entry.kind,
    availableDeltaCents: entry.availableDeltaCents,
    reservedDeltaCents: entry.reservedDeltaCents,
    bookingId: entry.bookingId ?? null,
    reason: entry.reason,
    actorType: actor.type,
    actorId: actor.id,
    // entries written together keep their order in the history
    at: new Date(at.getTime() + index),
  }));
  await trx.insertInto('creditLedger').values(rows).execute();
  for (const entry of entries) {
    if (entry.availableDeltaCents === 0 && entry.reservedDeltaCents === 0) continue;
    await trx
      .updateTable('creditLots')
      .set({
        availableCents: sql`available_cents + ${entry.availableDeltaCents}`,
        reservedCents: sql`reserved_cents + ${entry.reservedDeltaCents}`,
      })
      .where('id', '=', entry.lotId)
      .execute();
  }
  return rows.map((row) => row.id);
}

/** Creates a lot with no balance yet; the caller's grant/adjust entry gives it its amount. */
export async function insertLot(
  trx: Transaction<DB>,
  lot: {
    userId: string;
    source: CreditSource;
    originalCents: number;
    expiresAt: Date;
    originBookingId: string | null;
    reason: string;
    grantedBy: string | null;
    createdAt: Date;
  },
): Promise<string> {
  const id = newId();
  await trx
    .insertInto('creditLots')
    .values({ id, ...lot, availableCents: 0, reservedCents: 0 })
    .execute();
  return id;
}

/** The student's lots that can be spent now, locked (id order). */
export async function lockSpendableLots(trx: Transaction<DB>, userId: string, now: Date): Promise<LotRow[]> {
  return trx
    .selectFrom('creditLots')
    .selectAll()
    .where('userId', '=', userId)
    .where('availableCents', '>', 0)
    .where('revokedAt', 'is', null)
    .where('expiresAt', '>', now)
    .orderBy('id')
    .forUpdate()
    .execute();
}

/** Locks lots by id (id order) and returns them. */
export async function lockLots(trx: Transaction<DB>, ids: readonly string[]): Promise<Map<string, LotRow>> {
  if (ids.length === 0) return new Map();
  const rows = await trx
    .selectFrom('creditLots')
    .selectAll()
    .where('id', 'in', [...new Set(ids)])
    .orderBy('id')
    .forUpdate()
    .execute();
  return new Map(rows.map((row) => [row.id, row]));
}

/** Oldest expiry first (ties by id): the order credits are spent in. */
export function byExpiry(a: LotRow, b: LotRow): number {
  return a.expiresAt.getTime() - b.expiresAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A booking's reservations, every status. */
export async function selectReservations(db: Executor, bookingId: string): Promise<ReservationRow[]> {
  return db.selectFrom('creditReservations').selectAll().where('bookingId', '=', bookingId).orderBy('lotId').execute();
}

/**
 * A booking's reservations still holding money, with their lots locked first (the locking rule),
 * then re-read: anything that changes a reservation holds its lot, so the re-read is current.
 */
export async function lockHeldReservations(
  trx: Transaction<DB>,
  bookingId: string,
): Promise<{ reservations: ReservationRow[]; lots: Map<string, LotRow> }> {
  const first = await trx
    .selectFrom('creditReservations')
    .select('lotId')
    .where('bookingId', '=', bookingId)
    .where('status', '=', 'held')
    .execute();
  if (first.length === 0) return { reservations: [], lots: new Map() };
  const lots = await lockLots(
    trx,
    first.map((row) => row.lotId),
  );
  const reservations = await trx
    .selectFrom('creditReservations')
    .selectAll()
    .where('bookingId', '=', bookingId)
    .where('status', '=', 'held')
    .orderBy('lotId')
    .execute();
  // A reservation of this booking committed between the two reads (callers normally hold the
  // booking's money lock, so this is rare): lock its lots too before anyone changes them.
  const missing = reservations.map((row) => row.lotId).filter((lotId) => !lots.has(lotId));
  if (missing.length > 0) for (const [id, lot] of await lockLots(trx, missing)) lots.set(id, lot);
  return { reservations, lots };
}

/** What a reservation still holds. */
export function heldCents(reservation: Pick<ReservationRow, 'amountCents' | 'releasedCents' | 'consumedCents'>): number {
  return reservation.amountCents - reservation.releasedCents - reservation.consumedCents;
}

/** The status a reservation ends in once nothing is held any more. */
export function finalStatus(releasedCents: number, consumedCents: number): 'released' | 'consumed' | 'settled' {
  if (consumedCents === 0) return 'released';
  if (releasedCents === 0) return 'consumed';
  return 'settled';
}

/** The student a booking belongs to (undefined when there is no such booking). */
export async function findBookingStudent(db: Executor, bookingId: string): Promise<string | undefined> {
  const row = await db.selectFrom('bookings').select('studentId').where('id', '=', bookingId).executeTakeFirst();
  return row?.studentId;
}

/** Formats cents as dollars for messages ("$12.50"). */
export function dollars(cents: number): string {
  const sign = cents < 0 ? '−' : '';
  return `${sign}$${(Math.abs(cents) / 100).toFixed(2)}`;
}
