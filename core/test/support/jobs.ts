import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Database, type DB, loadDbConfig, newId, openDatabase } from '@instainstru/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { defineJob, JOBS, ScheduledRun } from '../../src/jobs/definitions.ts';
import { createCoreHandlers } from '../../src/jobs/handlers.ts';
import { createJobQueue, type JobQueue } from '../../src/jobs/queue.ts';
import {
  type JobHandlers,
  type RunningWorker,
  startWorker,
  UnrecoverableJobError,
  type WorkerOptions,
} from '../../src/jobs/start-worker.ts';
import { type Clock, systemClock } from '../../src/shared/clock.ts';
import { createLogger, type Logger } from '../../src/shared/logger.ts';
import { createCatalogService, createInstructor, createUser } from './factories.ts';

/** Jobs that exist only in tests, beside the platform's own. */
export const TEST_JOBS = {
  ...JOBS,
  // Writes one row to test_effect_log through ctx.effect; can pause before or after the effect
  // (so a test can kill the worker there) and can fail after it (duplicate delivery).
  'test.effect': defineJob({
    name: 'test.effect',
    payload: z
      .object({
        n: z.number().int(),
        pauseBeforeEffectMs: z.number().int().optional(),
        pauseAfterEffectMs: z.number().int().optional(),
        failAfterEffectAttempts: z.number().int().optional(),
        workMs: z.number().int().optional(),
      })
      .strict(),
    effectKey: (payload) => `n${payload.n}`,
    retryLimit: 4,
    retryDelaySeconds: 0,
    retryBackoff: false,
    expireInSeconds: 2,
    concurrency: 5,
  }),
  'test.fail': defineJob({
    name: 'test.fail',
    payload: z.object({ message: z.string(), customerEmail: z.string().optional(), unrecoverable: z.boolean().optional() }).strict(),
    retryLimit: 2,
    retryDelaySeconds: 1,
    retryBackoff: true,
    expireInSeconds: 5,
    concurrency: 2,
  }),
  // A scheduled job that fails on odd-minute slots, to see outcomes recorded per schedule.
  'test.tick': defineJob({
    name: 'test.tick',
    payload: ScheduledRun,
    policy: 'stately',
    singletonKey: (run) => `schedule:${run.schedule}`,
    effectKey: (run) => `${run.schedule}@${run.slot}`,
    retryLimit: 0,
    expireInSeconds: 5,
    concurrency: 1,
  }),
  'test.slow': defineJob({
    name: 'test.slow',
    payload: z.object({ ms: z.number().int() }).strict(),
    retryLimit: 1,
    retryDelaySeconds: 0,
    retryBackoff: false,
    expireInSeconds: 30,
    concurrency: 2,
  }),
};
export type TestJobs = typeof TEST_JOBS;

export const silentLogger: Logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: 'jobs-test' });

/**
 * Empties the job machinery's tables, pg-boss's jobs (not its queues) and any `extra` tables.
 * Cheaper than truncating every table, which on PostgreSQL costs about half a second per test.
 */
export async function resetJobs(db: Kysely<DB>, extra: readonly string[] = []): Promise<void> {
  await sql`delete from pgboss.job`.execute(db);
  await sql`delete from pgboss.archive`.execute(db);
  const tables = ['job_effects', 'worker_heartbeats', 'job_schedules', 'queue_depth_samples', ...extra];
  await sql.raw(`truncate ${tables.map((table) => `"${table}"`).join(', ')} cascade`).execute(db);
}

export async function createEffectLog(db: Kysely<DB>): Promise<void> {
  await sql`create table if not exists test_effect_log (n integer not null, job_id text not null, attempt integer not null, worker text not null, at timestamptz not null default now())`.execute(
    db,
  );
}

/** How many times each n's effect happened (only n with at least one). */
export async function effectCounts(db: Kysely<DB>): Promise<Map<number, number>> {
  const { rows } = await sql<{ n: number; times: number }>`select n, count(*)::int as times from test_effect_log group by n`.execute(db);
  return new Map(rows.map((row) => [row.n, row.times]));
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Handlers for TEST_JOBS (plus the platform's). `checkpoint` reports where an attempt is. */
export function testHandlers(workerTag: string, checkpoint: (event: string, n: number) => void = () => {}): JobHandlers<TestJobs> {
  const core = createCoreHandlers() as JobHandlers<TestJobs>;
  return {
    ...core,
    'test.effect': async (_db, payload, context) => {
      if (payload.pauseBeforeEffectMs && context.attempt === 1) {
        checkpoint('before-effect', payload.n);
        await pause(payload.pauseBeforeEffectMs);
      }
      if (payload.workMs) await pause(payload.workMs);
      const { replayed } = await context.effect('write', async (trx) => {
        await sql`insert into test_effect_log (n, job_id, attempt, worker) values (${payload.n}, ${context.jobId}, ${context.attempt}, ${workerTag})`.execute(
          trx,
        );
        return { wrote: payload.n };
      });
      if (payload.pauseAfterEffectMs && context.attempt === 1) {
        checkpoint('after-effect', payload.n);
        await pause(payload.pauseAfterEffectMs);
      }
      if (payload.failAfterEffectAttempts && context.attempt <= payload.failAfterEffectAttempts) {
        throw new Error(`attempt ${context.attempt} crashed after its effect`);
      }
      return { replayed, worker: workerTag };
    },
    'test.fail': async (_db, payload) => {
      if (payload.unrecoverable) throw new UnrecoverableJobError(payload.message);
      throw new Error(payload.message);
    },
    'test.tick': async (_db, run) => {
      if (new Date(run.slot).getUTCMinutes() % 2 === 1) throw new Error(`odd slot ${run.slot}`);
      return { ran: run.slot };
    },
    'test.slow': async (_db, payload) => {
      await pause(payload.ms);
      return { slept: payload.ms };
    },
  };
}

/** A queue over TEST_JOBS on this database, started (schema installed, queues created). */
export async function startTestQueue(database: Database, options: { maintenance?: boolean } = {}): Promise<JobQueue<TestJobs>> {
  const queue = createJobQueue(database, {
    jobs: TEST_JOBS,
    logger: silentLogger,
    maintenance: options.maintenance ?? false,
    maintenanceIntervalSeconds: 1,
  });
  await queue.start();
  return queue;
}

/** An in-process worker with test-speed timings. */
export function startTestWorker(
  database: Database,
  queue: JobQueue<TestJobs>,
  options: Partial<WorkerOptions<TestJobs>> & { tag?: string; clock?: Clock } = {},
): Promise<RunningWorker> {
  const { tag, ...rest } = options;
  return startWorker(database.db, {
    queue,
    handlers: testHandlers(tag ?? 'in-process'),
    clock: options.clock ?? systemClock,
    logger: silentLogger,
    pollIntervalMs: 50,
    heartbeatIntervalMs: 200,
    shutdownTimeoutMs: 5_000,
    ...rest,
  });
}

/** Polls until `check` returns a truthy value (and returns it), or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await pause(options.intervalMs ?? 50);
  }
  throw new Error(`Timed out waiting for ${options.what ?? 'a condition'} (last value: ${JSON.stringify(last)})`);
}

/** pg-boss state of one job (live table or archive). */
export async function jobState(db: Kysely<DB>, id: string): Promise<{ state: string; retryCount: number; name: string } | undefined> {
  const { rows } = await sql<{ state: string; retryCount: number; name: string }>`
    select state::text as state, retry_count, name from pgboss.job where id = ${id}::uuid
    union all select state::text, retry_count, name from pgboss.archive where id = ${id}::uuid`.execute(db);
  return rows[0];
}

export async function countJobs(db: Kysely<DB>, name: string, state?: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from pgboss.job where name = ${name} and (${state ?? null}::text is null or state::text = ${state ?? null}::text)`.execute(
    db,
  );
  return rows[0]?.n ?? 0;
}

/** A booking held for checkout (pending_payment) until `holdExpiresAt`; `startsAt` must differ per booking. */
export async function createHeldBooking(
  executor: Database | Transaction<DB>,
  input: { holdExpiresAt: Date | null; startsAt: Date; status?: string; paymentStatus?: string; instructorId?: string; studentId?: string },
): Promise<string> {
  // The factories only use `.db`: hand them the transaction when there is one.
  const database = ('isTransaction' in executor ? { db: executor } : executor) as Database;
  const serviceId = await createCatalogService(database);
  const instructor = input.instructorId
    ? { id: input.instructorId, instructorServiceId: undefined }
    : await createInstructor(database, { serviceId });
  let instructorServiceId = instructor.instructorServiceId;
  if (!instructorServiceId) {
    instructorServiceId = newId();
    await database.db
      .insertInto('instructorServices')
      .values({ id: instructorServiceId, instructorId: instructor.id, serviceId, hourlyRateCents: 9000 })
      .execute();
  }
  const studentId = input.studentId ?? (await createUser(database));
  const id = newId();
  await database.db
    .insertInto('bookings')
    .values({
      id,
      studentId,
      instructorId: instructor.id,
      serviceId,
      instructorServiceId,
      status: input.status ?? 'pending_payment',
      paymentStatus: input.paymentStatus ?? 'scheduled',
      startsAt: input.startsAt,
      endsAt: new Date(input.startsAt.getTime() + 60 * 60_000),
      durationMinutes: 60,
      locationType: 'online',
      holdExpiresAt: input.holdExpiresAt,
      hourlyRateCents: 9000,
      lessonPriceCents: 9000,
      studentFeeCents: 1080,
      instructorFeeBps: 1500,
      instructorFeeCents: 1350,
      instructorPayoutCents: 7650,
    })
    .execute();
  return id;
}

export interface WorkerChild {
  readonly child: ChildProcess;
  readonly workerId: Promise<string>;
  /** Resolves with the first stdout line matching `pattern` (seen already or later). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const thisFile = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(thisFile), '../../..');

/** Starts this file as a worker process against `databaseUrl` (real PostgreSQL only). */
export function spawnWorkerChild(databaseUrl: string, tag: string, env: Record<string, string> = {}): WorkerChild {
  // `node --import tsx`, not the tsx CLI: the CLI runs the script in a child process, which a
  // SIGKILL of the CLI would leave running.
  const child = spawn(process.execPath, ['--import', 'tsx', thisFile], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl, TEST_WORKER_TAG: tag, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waitForLine = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return resolve(seen);
      const timer = setTimeout(
        () => reject(new Error(`worker ${tag}: no line matching ${pattern} within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`)),
        timeoutMs,
      );
      waiters.push({
        pattern,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  return {
    child,
    workerId: waitForLine(/^READY /, 30_000).then((line) => line.slice('READY '.length)),
    waitForLine,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** The child side: a worker over TEST_JOBS that reports READY and its checkpoints on stdout. */
async function runWorkerChild(): Promise<void> {
  const tag = process.env.TEST_WORKER_TAG ?? 'child';
  // Never outlive the test run that started this worker (a crashed runner would leave it polling).
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 500).unref();
  const database = await openDatabase(loadDbConfig(process.env));
  const queue = await startTestQueue(database, { maintenance: true });
  const worker = await startTestWorker(database, queue, {
    tag,
    pollIntervalMs: 100,
    handlers: testHandlers(tag, (event, n) => process.stdout.write(`CHECKPOINT ${event} ${n}\n`)),
    ...(process.env.TEST_WORKER_CONCURRENCY ? { concurrency: { 'test.effect': Number(process.env.TEST_WORKER_CONCURRENCY) } } : {}),
  });
  process.stdout.write(`READY ${worker.id}\n`);
  const shutdown = async () => {
    await worker.stop();
    await queue.stop();
    await database.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runWorkerChild().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
