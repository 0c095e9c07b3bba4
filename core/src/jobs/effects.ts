import type { DB, JsonValue } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';

/** Where an effect belongs: the job, its stable key, the attempt that performed it, and what it is. */
export interface EffectIdentity {
  jobName: string;
  /** The job's stable identity (its effect key, or its pg-boss id). */
  jobKey: string;
  jobId: string | null;
  effect: string;
}

export interface EffectOutcome<T> {
  result: T;
  /** True when an earlier attempt (or a duplicate job) already performed this effect. */
  replayed: boolean;
}

/** `<job>:<job key>:<effect>`, the unique key of one effect. */
export function effectKeyOf(identity: Pick<EffectIdentity, 'jobName' | 'jobKey' | 'effect'>): string {
  return `${identity.jobName}:${identity.jobKey}:${identity.effect}`;
}

/**
 * Performs a database effect at most once: `perform` runs in a transaction that also inserts the
 * effect's row under its unique key, so the change and the record commit together. A retried or
 * duplicated job finds the row and gets the stored result instead. Two attempts at once serialize
 * on the unique index: the second waits for the first to commit, then replays.
 *
 * `perform` must use the transaction it is given (on PGlite, `db` would wait for the session).
 */
export async function performEffect<T extends JsonValue | void>(
  db: Kysely<DB>,
  identity: EffectIdentity,
  perform: (trx: Transaction<DB>) => Promise<T>,
): Promise<EffectOutcome<T>> {
  const key = effectKeyOf(identity);
  return db.transaction().execute(async (trx) => {
    const claimed = await trx
      .insertInto('jobEffects')
      .values({ key, jobName: identity.jobName, jobId: identity.jobId, effect: identity.effect })
      .onConflict((conflict) => conflict.column('key').doNothing())
      .returning('key')
      .executeTakeFirst();
    if (!claimed) {
      const existing = await trx.selectFrom('jobEffects').select('result').where('key', '=', key).executeTakeFirstOrThrow();
      return { result: existing.result as T, replayed: true };
    }
    const result = await perform(trx);
    await trx
      .updateTable('jobEffects')
      .set({ result: JSON.stringify(result ?? null) })
      .where('key', '=', key)
      .execute();
    return { result, replayed: false };
  });
}

/**
 * Performs an effect in an outside system (Stripe, an e-mail API) at most once, as far as that
 * system honours idempotency keys: `perform` receives the effect key to send as the idempotency
 * key, and the result is recorded afterwards. If the process dies between the call and the record,
 * the retry calls again with the same key and the outside system answers with the first result.
 */
export async function performExternalEffect<T extends JsonValue | void>(
  db: Kysely<DB>,
  identity: EffectIdentity,
  perform: (idempotencyKey: string) => Promise<T>,
): Promise<EffectOutcome<T>> {
  const key = effectKeyOf(identity);
  const existing = await db.selectFrom('jobEffects').select('result').where('key', '=', key).executeTakeFirst();
  if (existing) return { result: existing.result as T, replayed: true };
  const result = await perform(key);
  const recorded = await db
    .insertInto('jobEffects')
    .values({ key, jobName: identity.jobName, jobId: identity.jobId, effect: identity.effect, result: JSON.stringify(result ?? null) })
    .onConflict((conflict) => conflict.column('key').doNothing())
    .returning('key')
    .executeTakeFirst();
  return { result, replayed: !recorded };
}

/** Every effect recorded for a job id (job detail in monitoring). */
export async function findEffectsOfJob(
  db: Kysely<DB>,
  jobId: string,
): Promise<Array<{ key: string; effect: string; result: JsonValue; createdAt: Date }>> {
  return db
    .selectFrom('jobEffects')
    .select(['key', 'effect', 'result', 'createdAt'])
    .where('jobId', '=', jobId)
    .orderBy('createdAt')
    .limit(100)
    .execute();
}
