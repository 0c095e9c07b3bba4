import { type DB, newId } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import { AppError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';

export interface SearchEvent {
  id: string;
  createdAt: Date;
  rawQuery: string;
  normalizedQuery: string;
  parse: unknown;
  parseSource: string | null;
  serviceIds: string[];
  locationPhrase: string | null;
  locationTier: string | null;
  regionIds: string[];
  resultCount: number;
  tookMs: number;
  cacheHit: boolean;
  firstPage: boolean;
  sort: string;
  relaxed: string[];
  reason: string | null;
  userId: string | null;
  sessionId: string | null;
  ipHash: string | null;
}

/**
 * Writes search events in small batches off the request path: a search answers without waiting
 * for its log row, and one multi-row insert replaces dozens of single ones under load. A batch
 * goes out when `maxBatch` events wait or `flushMs` after the first one. Unresolved location
 * phrases are counted in the same flush. Events still waiting when the process dies are lost
 * (at most `flushMs` worth) — acceptable for analytics, never for money.
 */
export interface SearchEventRecorder {
  record(event: SearchEvent): void;
  /** Writes everything waiting now (admin reads and clicks call it so they see their own searches). */
  flush(): Promise<void>;
  /** True while the event has not been written yet. */
  isPending(searchId: string): boolean;
  close(): Promise<void>;
}

export function createSearchEventRecorder(
  db: Kysely<DB>,
  options: { logger: Logger; maxBatch?: number; flushMs?: number },
): SearchEventRecorder {
  const maxBatch = options.maxBatch ?? 100;
  const flushMs = options.flushMs ?? 250;
  let waiting: SearchEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  async function write(batch: SearchEvent[]): Promise<void> {
    await db
      .insertInto('searchEvents')
      .values(
        batch.map((event) => ({
          id: event.id,
          createdAt: event.createdAt,
          rawQuery: event.rawQuery.slice(0, 500),
          normalizedQuery: event.normalizedQuery.slice(0, 500),
          parse: JSON.stringify(event.parse ?? {}),
          parseSource: event.parseSource,
          serviceIds: event.serviceIds,
          locationPhrase: event.locationPhrase,
          locationTier: event.locationTier,
          regionIds: event.regionIds,
          resultCount: event.resultCount,
          tookMs: Math.max(0, Math.round(event.tookMs)),
          cacheHit: event.cacheHit,
          firstPage: event.firstPage,
          sort: event.sort,
          relaxed: event.relaxed,
          reason: event.reason,
          userId: event.userId,
          sessionId: event.sessionId,
          ipHash: event.ipHash,
        })),
      )
      .execute();
    const unresolved = new Map<string, { count: number; at: Date; query: string }>();
    for (const event of batch) {
      // "near me" without a saved address is not a place anyone could alias
      if (!event.firstPage || !event.locationPhrase || event.locationTier !== null || event.locationPhrase === 'near me') continue;
      const phrase = event.locationPhrase.slice(0, 200);
      const seen = unresolved.get(phrase);
      unresolved.set(phrase, { count: (seen?.count ?? 0) + 1, at: event.createdAt, query: event.rawQuery.slice(0, 500) });
    }
    for (const [phrase, seen] of unresolved) {
      await sql`
        insert into unresolved_location_phrases (phrase, count, first_seen_at, last_seen_at, last_query)
        values (${phrase}, ${seen.count}, ${seen.at}, ${seen.at}, ${seen.query})
        on conflict (phrase) do update set count = unresolved_location_phrases.count + excluded.count,
          last_seen_at = greatest(unresolved_location_phrases.last_seen_at, excluded.last_seen_at),
          last_query = excluded.last_query
      `.execute(db);
    }
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return writing;
    const batch = waiting;
    waiting = [];
    // one batch at a time, in order: on PGlite there is only one connection anyway
    writing = writing.then(() =>
      write(batch).catch((error: unknown) => {
        options.logger.error(
          { err: { message: (error as Error).message }, events: batch.length },
          'search: could not record search events',
        );
      }),
    );
    return writing;
  }

  return {
    record(event) {
      waiting.push(event);
      if (waiting.length >= maxBatch) void flush();
      else if (!timer) {
        timer = setTimeout(() => void flush(), flushMs);
        timer.unref();
      }
    },
    flush,
    isPending: (searchId) => waiting.some((event) => event.id === searchId),
    close: flush,
  };
}

export interface ClickInput {
  searchId: string;
  instructorId: string;
  serviceId: string | null;
  position: number;
  userId: string | null;
  sessionId: string | null;
  ipHash: string | null;
}

/**
 * Records that a result was opened. The search must exist (recorded in the last 24 hours) and the
 * instructor must be a real one; the same click sent twice counts once.
 */
export async function recordSearchClick(
  db: Kysely<DB>,
  recorder: SearchEventRecorder,
  input: ClickInput,
  now: Date,
): Promise<{ id: string; duplicate: boolean }> {
  if (recorder.isPending(input.searchId)) await recorder.flush();
  const search = await db.selectFrom('searchEvents').where('id', '=', input.searchId).select(['id', 'createdAt']).executeTakeFirst();
  if (!search) throw new AppError('not_found', 'That search was not found.', 'searchId');
  if (now.getTime() - search.createdAt.getTime() > 24 * 3_600_000) {
    throw new AppError('validation_error', 'Clicks are recorded for 24 hours after a search; search again.', 'searchId');
  }
  const instructor = await db.selectFrom('instructorProfiles').where('userId', '=', input.instructorId).select('userId').executeTakeFirst();
  if (!instructor) throw new AppError('invalid_reference', 'That instructor was not found.', 'instructorId');
  if (input.serviceId) {
    const service = await db.selectFrom('services').where('id', '=', input.serviceId).select('id').executeTakeFirst();
    if (!service) throw new AppError('invalid_reference', 'That service was not found.', 'serviceId');
  }
  const existing = await db
    .selectFrom('searchClicks')
    .where('searchId', '=', input.searchId)
    .where('instructorId', '=', input.instructorId)
    .where('position', '=', input.position)
    .select('id')
    .executeTakeFirst();
  if (existing) return { id: existing.id, duplicate: true };
  const id = newId();
  await db
    .insertInto('searchClicks')
    .values({
      id,
      searchId: input.searchId,
      instructorId: input.instructorId,
      serviceId: input.serviceId,
      position: input.position,
      userId: input.userId,
      sessionId: input.sessionId,
      ipHash: input.ipHash,
      at: now,
    })
    .execute();
  return { id, duplicate: false };
}
