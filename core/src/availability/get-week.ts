import { createHash } from 'node:crypto';
import type { DB } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import { AppError } from '../shared/errors.ts';
import { BITMAP_BYTES, emptyBitmap } from './bitmap.ts';
import { assertWeekStart, type DayRanges, timeRangesFromBitmap, weekDays } from './week.ts';

export interface Blackout {
  day: string;
  reason: string | null;
}

/** One instructor's week as the editor sees it. */
export interface AvailabilityWeek {
  weekStart: string;
  /** Monday to Sunday, always seven. */
  days: DayRanges[];
  /** Blackout days inside the week: closed whatever their ranges say. */
  blackouts: Blackout[];
  /** Strong ETag (quoted) over the seven bitmaps; send it back as `If-Match`. Blackouts are not part of it. */
  etag: string;
  /** Latest `updated_at` of the week's stored days; null when nothing was ever saved for it. */
  lastModifiedAt: Date | null;
}

export interface StoredDay {
  bits: Uint8Array;
  updatedAt: Date;
}

type Db = Kysely<DB> | Transaction<DB>;

/**
 * Locks the instructor's availability for the rest of the transaction and checks the profile
 * exists. Row locks on availability_days alone cannot serialize the first save of a week (there
 * are no rows to lock yet), so every writer first takes this lock. FOR NO KEY UPDATE does not
 * conflict with the KEY SHARE locks that foreign keys take, so bookings are never blocked by it.
 */
export async function lockInstructorAvailability(trx: Transaction<DB>, instructorId: string): Promise<void> {
  const profile = await trx
    .selectFrom('instructorProfiles')
    .where('userId', '=', instructorId)
    .select('userId')
    .forNoKeyUpdate()
    .executeTakeFirst();
  if (!profile) throw new AppError('not_found', 'Set up your instructor profile before editing availability.');
}

/** Stored bitmaps of `fromDay`…`toDay` (days without a row are absent), optionally locked FOR UPDATE. */
export async function readStoredDays(
  db: Db,
  instructorId: string,
  fromDay: string,
  toDay: string,
  options: { forUpdate?: boolean } = {},
): Promise<Map<string, StoredDay>> {
  let query = db
    .selectFrom('availabilityDays')
    .where('instructorId', '=', instructorId)
    .where('day', '>=', fromDay)
    .where('day', '<=', toDay)
    .select(['day', 'bits', 'updatedAt'])
    .orderBy('day');
  if (options.forUpdate) query = query.forUpdate();
  const rows = await query.execute();
  return new Map(rows.map((row) => [row.day, { bits: new Uint8Array(row.bits), updatedAt: row.updatedAt }]));
}

/** The bitmap of a day, empty when it has no row. */
export function bitsOf(stored: Map<string, StoredDay>, day: string): Uint8Array {
  return stored.get(day)?.bits ?? emptyBitmap();
}

/** Strong ETag of a week: SHA-256 over its seven bitmaps in day order (a missing day counts as closed). */
export function weekEtag(bitmaps: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const bits of bitmaps) {
    if (bits.length !== BITMAP_BYTES) throw new RangeError(`An availability bitmap has ${BITMAP_BYTES} bytes, got ${bits.length}`);
    hash.update(bits);
  }
  return `"${hash.digest('base64url')}"`;
}

/** True when an `If-Match` header value matches `etag` under strong comparison (weak tags never match). */
export function ifMatchAccepts(ifMatch: string, etag: string): boolean {
  return ifMatch
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0 && !tag.startsWith('W/'))
    .some((tag) => (tag.startsWith('"') ? tag : `"${tag}"`) === etag);
}

/** Reads a week (no validation of `weekStart`, no profile check): for use inside writers' transactions. */
export async function readWeek(db: Db, instructorId: string, weekStart: string): Promise<AvailabilityWeek> {
  const days = weekDays(weekStart);
  const firstDay = days[0] ?? weekStart;
  const lastDay = days[6] ?? weekStart;
  const [stored, blackouts] = await Promise.all([
    readStoredDays(db, instructorId, firstDay, lastDay),
    db
      .selectFrom('blackoutDates')
      .where('instructorId', '=', instructorId)
      .where('day', '>=', firstDay)
      .where('day', '<=', lastDay)
      .select(['day', 'reason'])
      .orderBy('day')
      .execute(),
  ]);
  let lastModifiedAt: Date | null = null;
  for (const { updatedAt } of stored.values()) if (!lastModifiedAt || updatedAt > lastModifiedAt) lastModifiedAt = updatedAt;
  return {
    weekStart,
    days: days.map((day) => ({ day, ranges: timeRangesFromBitmap(bitsOf(stored, day)) })),
    blackouts,
    etag: weekEtag(days.map((day) => bitsOf(stored, day))),
    lastModifiedAt,
  };
}

/** An instructor's week (Monday `weekStart`): ranges per day, blackouts, ETag and Last-Modified. 404 without a profile. */
export async function getWeek(db: Kysely<DB>, instructorId: string, weekStart: string): Promise<AvailabilityWeek> {
  assertWeekStart(weekStart, 'weekStart');
  const profile = await db.selectFrom('instructorProfiles').where('userId', '=', instructorId).select('userId').executeTakeFirst();
  if (!profile) throw new AppError('not_found', 'Set up your instructor profile before editing availability.');
  return readWeek(db, instructorId, weekStart);
}
