import { type Kysely, sql } from 'kysely';

/**
 * Identity: sign-in sessions with rotating refresh tokens, password-reset tokens, login
 * throttling counters, and the notification outbox (the reset e-mail is its first user).
 *
 * Every token is stored as its SHA-256 hash only; the raw value exists once, in the answer to
 * the client (or, for reset links, in the outbox payload until delivery — see below).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- One row per sign-in (a refresh-token family). Revoking the session revokes every refresh
    -- token ever issued in it: logout, password reset, and reuse of a rotated token all do that.
    create table auth_sessions (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      created_at timestamptz not null default now(),
      last_used_at timestamptz not null default now(),
      revoked_at timestamptz,
      revoked_reason text,
      user_agent text,
      ip_hash text
    );
    create index auth_sessions_user_idx on auth_sessions (user_id, created_at desc);

    -- Rotated on every refresh: a token is used at most once; presenting a used one again means
    -- it was stolen (or replayed), so the whole session is revoked.
    create table refresh_tokens (
      id text primary key,
      session_id text not null references auth_sessions (id) on delete cascade,
      token_hash text not null unique,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz
    );
    create index refresh_tokens_session_idx on refresh_tokens (session_id);

    create table password_reset_tokens (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      token_hash text not null unique,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz
    );
    create index password_reset_tokens_user_idx on password_reset_tokens (user_id, created_at desc);

    -- Failed-attempt counters for sign-in and two-factor checks, shared by every API process.
    -- Keys are keyed hashes ("ip:…", "acct:…", "pair:…"): no e-mail address or IP is stored.
    create table login_throttle (
      key text primary key,
      failures integer not null default 0 check (failures >= 0),
      window_started_at timestamptz not null,
      last_failure_at timestamptz not null
    );
    create index login_throttle_last_failure_idx on login_throttle (last_failure_at);

    -- Notifications waiting for delivery (Resend / Twilio / Web Push, or shown in the console
    -- when none is configured). RESTRICTED DATA: a payload can hold a single-use link (password
    -- reset) until it is sent; show it masked and clear secrets after delivery.
    create table outbox (
      id text primary key,
      channel text not null check (channel in ('email', 'sms', 'push')),
      template text not null,
      recipient text not null,
      payload jsonb not null default '{}',
      status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
      attempts integer not null default 0,
      last_error text,
      created_at timestamptz not null default now(),
      sent_at timestamptz
    );
    create index outbox_pending_idx on outbox (created_at) where status = 'pending';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists outbox, login_throttle, password_reset_tokens, refresh_tokens, auth_sessions cascade`.execute(db);
}
