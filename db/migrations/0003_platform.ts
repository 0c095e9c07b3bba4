import { type Kysely, sql } from 'kysely';

/**
 * API platform state every process must share: rate-limit policy overrides set by admins at run
 * time, and stored responses for Idempotency-Key requests.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- One row per policy an admin changed; policies without a row use the built-in values.
    create table rate_limit_overrides (
      policy text primary key,
      request_limit integer not null check (request_limit between 1 and 1000000),
      period_seconds integer not null check (period_seconds between 1 and 86400),
      mode text not null check (mode in ('enforce', 'shadow', 'off')),
      fail_closed boolean not null,
      updated_at timestamptz not null default now(),
      updated_by text
    );

    -- The first answer to (caller, Idempotency-Key), replayed to retries for 24 hours.
    -- A row is 'in_progress' while its first request runs; locked_until lets a retry take over
    -- a reservation whose process died before answering.
    create table idempotency_keys (
      principal_key text not null,
      key text not null check (length(key) between 1 and 255),
      request_hash text not null,
      status text not null check (status in ('in_progress', 'completed')),
      locked_until timestamptz,
      response_status smallint,
      response_body text,
      created_at timestamptz not null default now(),
      completed_at timestamptz,
      expires_at timestamptz not null,
      primary key (principal_key, key),
      constraint idempotency_keys_completed_has_response check (status <> 'completed' or response_status is not null)
    );
    create index idempotency_keys_expires_idx on idempotency_keys (expires_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists idempotency_keys, rate_limit_overrides`.execute(db);
}
