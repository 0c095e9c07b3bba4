import { type Kysely, sql } from 'kysely';

/**
 * State of the background-job machinery (core/src/jobs) that is ours rather than pg-boss's.
 * pg-boss keeps its queues and jobs in its own schema `pgboss`, installed by pg-boss itself when a
 * process starts; these tables sit next to the domain data so an effect commits with it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- One row per side effect a job performed, under a deterministic key
    -- ('<job>:<job key>:<effect>'). A retried or duplicated job finds its row and does not repeat
    -- the e-mail, charge or transfer (invariant I5).
    create table job_effects (
      key text primary key check (length(key) <= 500),
      job_name text not null,
      job_id text,
      effect text not null,
      result jsonb not null default '{}',
      created_at timestamptz not null default now()
    );
    create index job_effects_job_idx on job_effects (job_name, created_at desc);

    -- Each worker process writes its row every few seconds; monitoring calls a worker dead when
    -- its last beat is older than three intervals.
    create table worker_heartbeats (
      id text primary key,
      host text not null,
      pid integer not null,
      queues text[] not null,
      concurrency jsonb not null default '{}',
      heartbeat_interval_ms integer not null check (heartbeat_interval_ms > 0),
      started_at timestamptz not null default now(),
      last_beat_at timestamptz not null default now(),
      stopped_at timestamptz,
      jobs_done bigint not null default 0,
      jobs_failed bigint not null default 0,
      active_jobs jsonb not null default '[]',
      release text
    );
    create index worker_heartbeats_last_beat_idx on worker_heartbeats (last_beat_at desc);

    -- Run state of the named cron schedules declared in code (core/src/jobs/schedules.ts).
    -- last_slot_at is the cron slot last enqueued: a scheduler claims a slot by moving it forward
    -- in the same transaction as the enqueue, so two schedulers never enqueue one slot twice.
    create table job_schedules (
      name text primary key,
      cron text not null,
      job_name text not null,
      enabled boolean not null default true,
      disabled_reason text,
      last_slot_at timestamptz,
      last_enqueued_at timestamptz,
      last_job_id text,
      last_run_at timestamptz,
      last_outcome text check (last_outcome in ('success', 'failure')),
      last_error text,
      last_duration_ms integer,
      next_run_at timestamptz,
      missed_runs integer not null default 0 check (missed_runs >= 0),
      updated_at timestamptz not null default now()
    );

    -- One row per queue per minute: the 1-hour depth trend the console and the copilot show.
    create table queue_depth_samples (
      queue text not null,
      sampled_at timestamptz not null,
      queued integer not null,
      scheduled integer not null,
      active integer not null,
      failed integer not null,
      oldest_queued_seconds integer,
      primary key (queue, sampled_at)
    );
    create index queue_depth_samples_at_idx on queue_depth_samples (sampled_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Queued jobs refer to rows that a reset removes; forget them with the rest.
  await sql`
    drop table if exists queue_depth_samples, job_schedules, worker_heartbeats, job_effects;
    drop schema if exists pgboss cascade;
  `.execute(db);
}
