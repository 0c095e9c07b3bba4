import type { Database, DB } from '@instainstru/db';
import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import PgBoss from 'pg-boss';
import type { Logger } from '../shared/logger.ts';
import {
  type CoreJobs,
  deadLetterQueueOf,
  type JobDefinition,
  type JobName,
  type JobPayloadInput,
  type JobRegistry,
} from './definitions.ts';

/** pg-boss keeps its tables in this schema, apart from ours (and out of the generated `DB` types). */
export const JOBS_SCHEMA = 'pgboss';

export interface SendOptions {
  /** Not before this instant (the database's clock decides). */
  startAfter?: Date;
  /** Overrides the definition's singleton key. */
  singletonKey?: string;
  priority?: number;
}

/** A job as a worker receives it from `fetch`. */
export interface FetchedJob {
  id: string;
  name: string;
  data: unknown;
  /** 1 for the first attempt. */
  attempt: number;
  retryLimit: number;
  startedAt: Date;
  createdAt: Date;
  singletonKey: string | null;
}

/** A job's stored state, for inspection. */
export interface JobRecord extends Omit<FetchedJob, 'startedAt' | 'attempt'> {
  state: 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';
  attempts: number;
  startAfter: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  output: unknown;
}

/** Kysely or an open transaction: a job sent with a transaction commits or rolls back with it. */
export type Executor = Kysely<DB> | Transaction<DB>;

/**
 * The background-job queue: pg-boss 10 behind typed job names and zod-validated payloads.
 * Every method that writes takes the executor to write with, so a job can join the transaction
 * that changes the data it acts on — it is never lost, and never runs for a rolled-back change.
 */
export interface JobQueue<R extends JobRegistry = CoreJobs> {
  readonly jobs: R;
  /** Installs or migrates pg-boss's schema and creates every queue with its dead-letter queue. */
  start(): Promise<void>;
  /** Stops pg-boss's maintenance timers; in-flight sends finish. Workers stop first. */
  stop(): Promise<void>;
  definition(name: string): JobDefinition;
  /** Enqueues a job; returns its id, or null when a singleton key deduplicated it. */
  send<N extends JobName<R>>(db: Executor, name: N, payload: JobPayloadInput<R, N>, options?: SendOptions): Promise<string | null>;
  /** `send` with `startAfter`: runs the job at (not before) `at`. */
  schedule<N extends JobName<R>>(
    db: Executor,
    name: N,
    payload: JobPayloadInput<R, N>,
    at: Date,
    options?: SendOptions,
  ): Promise<string | null>;
  /** Cancels a job that has not finished; false when it was already done or unknown. */
  cancel(db: Executor, name: string, id: string): Promise<boolean>;
  /** Puts a failed job back in the queue with one more attempt; false unless it was failed. */
  retry(db: Executor, name: string, id: string): Promise<boolean>;
  /** Reads one job (live table only; finished jobs move to the archive after a while). */
  getJob(name: string, id: string): Promise<JobRecord | undefined>;
  /** Claims up to `limit` ready jobs (FOR UPDATE SKIP LOCKED): for workers. */
  fetch(name: string, limit: number): Promise<FetchedJob[]>;
  complete(name: string, id: string, output: unknown): Promise<void>;
  /** Records a failed attempt; pg-boss retries with backoff or, on the last attempt, dead-letters. */
  fail(name: string, id: string, error: unknown, options?: { retry?: boolean }): Promise<void>;
  /** Runs pg-boss maintenance now: fail expired attempts, archive, purge. */
  maintain(): Promise<void>;
  /** Removes every job (tests). */
  clear(): Promise<void>;
}

export interface JobQueueOptions<R extends JobRegistry> {
  jobs: R;
  logger: Logger;
  /**
   * Run pg-boss maintenance (expire attempts whose worker died, archive, purge) on a timer.
   * Worker processes do; an API process that only sends and inspects does not.
   */
  maintenance?: boolean;
  maintenanceIntervalSeconds?: number;
  /** Finished jobs stay in the live table this long before the archive (default 12 h). */
  archiveCompletedAfterSeconds?: number;
  /** Failed jobs stay retryable this long (default 7 days). */
  archiveFailedAfterSeconds?: number;
}

type RawExecutor = { executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }> };

/** pg-boss speaks raw SQL; route it through the caller's Kysely connection (or transaction). */
function rawExecutor(db: Executor): RawExecutor {
  const plain = db.withoutPlugins();
  return {
    async executeSql(text, values = []) {
      const result = await plain.executeQuery(CompiledQuery.raw(text, values));
      return { rows: result.rows as any[] };
    },
  };
}

function toPgBossError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
      stack: error.stack?.split('\n').slice(0, 12).join('\n'),
    };
  }
  return { name: 'Error', message: String(error) };
}

/**
 * Builds the queue on the process's database. pg-boss never opens connections of its own: it
 * uses the shared pool through `executeSql` (on PGlite, the one embedded session).
 */
export function createJobQueue<R extends JobRegistry = CoreJobs>(database: Database, options: JobQueueOptions<R>): JobQueue<R> {
  const { jobs, logger } = options;
  for (const [key, definition] of Object.entries(jobs)) {
    if (key !== definition.name) throw new Error(`Job registered as "${key}" is named "${definition.name}"`);
  }
  const boss = new PgBoss({
    db: { executeSql: (text: string, values: unknown[]) => database.executeSql(text, values ?? []) },
    schema: JOBS_SCHEMA,
    migrate: true,
    // The cron of pg-boss is off: schedules run from our scheduler, on an injectable clock.
    schedule: false,
    supervise: options.maintenance ?? false,
    maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 60,
    archiveCompletedAfterSeconds: options.archiveCompletedAfterSeconds ?? 12 * 3600,
    archiveFailedAfterSeconds: options.archiveFailedAfterSeconds ?? 7 * 24 * 3600,
    deleteAfterDays: 7,
  });
  boss.on('error', (error) =>
    logger.warn({ err: { message: error.message } }, 'job queue maintenance failed; it retries on its next interval'),
  );

  function definition(name: string): JobDefinition {
    const found = jobs[name];
    if (!found) throw new Error(`Unknown job "${name}"`);
    return found;
  }

  async function send(db: Executor, name: string, payload: unknown, sendOptions: SendOptions = {}): Promise<string | null> {
    const job = definition(name);
    const parsed = job.payload.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`Job ${name}: invalid payload at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
    }
    const singletonKey = sendOptions.singletonKey ?? job.singletonKey?.(parsed.data);
    return boss.send(name, parsed.data as object, {
      db: rawExecutor(db),
      retryLimit: job.retryLimit,
      retryDelay: job.retryDelaySeconds,
      retryBackoff: job.retryBackoff,
      expireInSeconds: job.expireInSeconds,
      deadLetter: deadLetterQueueOf(name),
      ...(singletonKey !== undefined ? { singletonKey } : {}),
      ...(sendOptions.startAfter ? { startAfter: sendOptions.startAfter } : {}),
      ...(sendOptions.priority !== undefined ? { priority: sendOptions.priority } : {}),
    });
  }

  return {
    jobs,
    async start() {
      await boss.start();
      for (const job of Object.values(jobs)) {
        const deadLetter = deadLetterQueueOf(job.name);
        // Dead letters wait for a person: no retries, kept for four weeks.
        await boss.createQueue(deadLetter, { name: deadLetter, policy: 'standard', retryLimit: 0, retentionMinutes: 28 * 24 * 60 });
        const settings = {
          name: job.name,
          policy: job.policy,
          retryLimit: job.retryLimit,
          retryDelay: job.retryDelaySeconds,
          retryBackoff: job.retryBackoff,
          expireInSeconds: job.expireInSeconds,
          deadLetter,
        };
        await boss.createQueue(job.name, settings);
        // createQueue leaves an existing queue as it was; bring its settings in line with the code.
        await boss.updateQueue(job.name, settings);
      }
    },
    async stop() {
      await boss.stop({ graceful: false, close: false, wait: true });
    },
    definition,
    send: send as JobQueue<R>['send'],
    schedule: ((db: Executor, name: string, payload: unknown, at: Date, sendOptions: SendOptions = {}) =>
      send(db, name, payload, { ...sendOptions, startAfter: at })) as JobQueue<R>['schedule'],
    async cancel(db, name, id) {
      const result = (await boss.cancel(name, id, { db: rawExecutor(db) })) as unknown as { affected: number };
      return result.affected > 0;
    },
    async retry(db, name, id) {
      const result = (await boss.retry(name, id, { db: rawExecutor(db) })) as unknown as { affected: number };
      return result.affected > 0;
    },
    async getJob(name, id) {
      const job = await boss.getJobById<unknown>(name, id);
      if (!job) return undefined;
      return {
        id: job.id,
        name: job.name,
        data: job.data,
        state: job.state,
        attempts: job.startedOn ? job.retryCount + 1 : 0,
        retryLimit: job.retryLimit,
        startAfter: new Date(job.startAfter),
        startedAt: job.startedOn ? new Date(job.startedOn) : null,
        completedAt: job.completedOn ? new Date(job.completedOn) : null,
        createdAt: new Date(job.createdOn),
        singletonKey: job.singletonKey,
        output: job.output,
      };
    },
    async fetch(name, limit) {
      const fetched = await boss.fetch<unknown>(name, { batchSize: limit, includeMetadata: true });
      return fetched.map((job) => ({
        id: job.id,
        name: job.name,
        data: job.data,
        attempt: job.retryCount + 1,
        retryLimit: job.retryLimit,
        startedAt: new Date(job.startedOn),
        createdAt: new Date(job.createdOn),
        singletonKey: job.singletonKey,
      }));
    },
    async complete(name, id, output) {
      const data =
        output === undefined || output === null
          ? undefined
          : typeof output === 'object' && !Array.isArray(output)
            ? output
            : { value: output };
      await boss.complete(name, id, data as object | undefined);
    },
    async fail(name, id, error, failOptions = {}) {
      if (failOptions.retry === false) {
        // No further attempts: the attempt count reaches the limit, so this failure dead-letters.
        await database.executeSql(
          `update ${JOBS_SCHEMA}.job set retry_limit = retry_count where name = $1 and id = $2 and state = 'active'`,
          [name, id],
        );
      }
      await boss.fail(name, id, toPgBossError(error));
    },
    async maintain() {
      await boss.maintain();
    },
    async clear() {
      await boss.clearStorage();
    },
  };
}
