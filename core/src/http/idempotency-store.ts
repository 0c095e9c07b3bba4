import type { Database } from '@instainstru/db';
import { sql } from 'kysely';

/** How long a stored answer is replayed to retries of the same key. */
export const IDEMPOTENCY_TTL_HOURS = 24;

export type Reservation =
  | { kind: 'reserved' }
  | { kind: 'completed'; requestHash: string; responseStatus: number; responseBody: string | null }
  | { kind: 'in_progress'; requestHash: string };

interface KeyRef {
  principalKey: string;
  key: string;
}

/**
 * Claims (caller, key) for a request, atomically: of any number of concurrent identical
 * requests exactly one gets `reserved`. The insert takes over an existing row only when it has
 * expired, or when it is an abandoned reservation (its lease ran out: the process answering it
 * died) of the very same request. Otherwise the current row is returned for the caller to
 * replay or refuse. Times come from the database clock, which every process shares.
 */
export async function reserveIdempotencyKey(
  database: Database,
  input: KeyRef & { requestHash: string; leaseMs: number },
): Promise<Reservation> {
  // A row can vanish between the failed insert and the read (its request failed and released
  // it); trying again then reserves it.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const fresh = {
      requestHash: input.requestHash,
      status: 'in_progress',
      lockedUntil: sql<Date>`now() + ${input.leaseMs} * interval '1 millisecond'`,
      responseStatus: null,
      responseBody: null,
      createdAt: sql<Date>`now()`,
      completedAt: null,
      expiresAt: sql<Date>`now() + ${IDEMPOTENCY_TTL_HOURS} * interval '1 hour'`,
    };
    const claimed = await database.db
      .insertInto('idempotencyKeys')
      .values({ principalKey: input.principalKey, key: input.key, ...fresh })
      .onConflict((conflict) =>
        conflict
          .columns(['principalKey', 'key'])
          .doUpdateSet(fresh)
          .where((eb) =>
            eb.or([
              eb('idempotencyKeys.expiresAt', '<=', sql<Date>`now()`),
              eb.and([
                eb('idempotencyKeys.status', '=', 'in_progress'),
                eb('idempotencyKeys.lockedUntil', '<', sql<Date>`now()`),
                eb('idempotencyKeys.requestHash', '=', input.requestHash),
              ]),
            ]),
          ),
      )
      .returning('key')
      .executeTakeFirst();
    if (claimed) return { kind: 'reserved' };

    const row = await database.db
      .selectFrom('idempotencyKeys')
      .select(['status', 'requestHash', 'responseStatus', 'responseBody'])
      .where('principalKey', '=', input.principalKey)
      .where('key', '=', input.key)
      .executeTakeFirst();
    if (!row) continue;
    if (row.status === 'completed' && row.responseStatus !== null) {
      return { kind: 'completed', requestHash: row.requestHash, responseStatus: row.responseStatus, responseBody: row.responseBody };
    }
    return { kind: 'in_progress', requestHash: row.requestHash };
  }
  return { kind: 'in_progress', requestHash: input.requestHash };
}

/** Stores the first answer so retries replay it. */
export async function completeIdempotencyKey(
  database: Database,
  input: KeyRef & { responseStatus: number; responseBody: string | null },
): Promise<void> {
  await database.db
    .updateTable('idempotencyKeys')
    .set({
      status: 'completed',
      responseStatus: input.responseStatus,
      responseBody: input.responseBody,
      completedAt: sql<Date>`now()`,
      lockedUntil: null,
    })
    .where('principalKey', '=', input.principalKey)
    .where('key', '=', input.key)
    .where('status', '=', 'in_progress')
    .execute();
}

/** Gives the key back (the request failed on our side) so the client can retry with it. */
export async function releaseIdempotencyKey(database: Database, input: KeyRef): Promise<void> {
  await database.db
    .deleteFrom('idempotencyKeys')
    .where('principalKey', '=', input.principalKey)
    .where('key', '=', input.key)
    .where('status', '=', 'in_progress')
    .execute();
}

/** Deletes answers past their 24 hours; returns how many. */
export async function sweepExpiredIdempotencyKeys(database: Database): Promise<number> {
  const result = await database.db
    .deleteFrom('idempotencyKeys')
    .where('expiresAt', '<=', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
