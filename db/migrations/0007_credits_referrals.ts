import { type Kysely, sql } from 'kysely';

/**
 * Credits, loyalty, tips and referrals (spec/payments.md §Credits, §Tips, §Referrals).
 *
 * The credit ledger is the record of truth; each lot keeps running totals that are changed in the
 * same statement group as the ledger row, under the lot's row lock. Ledger sign convention:
 *
 *   every entry carries two signed deltas, `available_delta_cents` and `reserved_delta_cents`;
 *   `amount_cents` (generated) = their sum = the change of the balance.
 *   balance   = Σ amount_cents
 *   available = Σ available_delta_cents      (spendable now, unless the lot has passed its expiry)
 *   reserved  = Σ reserved_delta_cents       (held for a booking; never expires while held)
 *
 *   grant   (+x, 0)    a lot is created (cancellation, loyalty, referral, reissue, promo…)
 *   adjust  (±x, 0)    an admin correction (+ creates an 'admin' lot, − takes from lots FIFO)
 *   reserve (−x, +x)   held for a booking at checkout            balance unchanged
 *   release (+x, −x)   a held amount given back (original expiry) balance unchanged
 *   consume (0, −x)    spent at lesson completion (or penalty)
 *   expire  (−x, 0)    unreserved credit past its expiry
 *   revoke  (−x, 0)    unspent credit withdrawn (loyalty lesson refunded, reward voided)
 *
 * Every delta of an entry applies to one lot, and the lots' available/reserved columns cannot go
 * below zero, so no balance can be negative and no cent can be spent twice (invariant I4).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table credit_lots (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      source text not null check (source in ('cancellation', 'loyalty', 'referral', 'admin', 'reissue', 'promo')),
      original_cents integer not null check (original_cents > 0),
      -- running totals of the lot's ledger entries (checked against the ledger in tests)
      available_cents integer not null check (available_cents >= 0),
      reserved_cents integer not null default 0 check (reserved_cents >= 0),
      expires_at timestamptz not null,
      -- the booking whose cancellation, completion or refund produced the lot
      origin_booking_id text references bookings (id) on delete set null,
      reason text not null,
      granted_by text,
      revoked_at timestamptz,
      revoked_reason text,
      created_at timestamptz not null default now(),
      constraint credit_lots_within_original check (available_cents + reserved_cents <= original_cents)
    );
    create index credit_lots_user_idx on credit_lots (user_id, expires_at, id);
    create index credit_lots_expiry_idx on credit_lots (expires_at) where available_cents > 0;
    create index credit_lots_origin_idx on credit_lots (origin_booking_id) where origin_booking_id is not null;
    -- A booking turns into credit at most once per cause (penalty cancellation, loyalty award,
    -- re-issue after a refund): a repeated settlement fails instead of paying twice.
    create unique index credit_lots_once_per_booking on credit_lots (origin_booking_id, source)
      where origin_booking_id is not null and source in ('cancellation', 'loyalty', 'reissue');

    -- One row per (booking, lot) a checkout reserved from; the amount held stays on the row and
    -- what became of it (released, consumed, re-issued after a refund) is counted beside it.
    create table credit_reservations (
      id text primary key,
      booking_id text not null references bookings (id) on delete cascade,
      lot_id text not null references credit_lots (id) on delete cascade,
      user_id text not null references users (id) on delete cascade,
      amount_cents integer not null check (amount_cents > 0),
      released_cents integer not null default 0 check (released_cents >= 0),
      consumed_cents integer not null default 0 check (consumed_cents >= 0),
      reissued_cents integer not null default 0 check (reissued_cents >= 0),
      status text not null default 'held' check (status in ('held', 'released', 'consumed', 'settled')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (booking_id, lot_id),
      constraint credit_reservations_adds_up check (released_cents + consumed_cents <= amount_cents),
      constraint credit_reservations_reissue_of_consumed check (reissued_cents <= consumed_cents)
    );
    create index credit_reservations_user_idx on credit_reservations (user_id) where status = 'held';
    create index credit_reservations_lot_idx on credit_reservations (lot_id);

    create table credit_ledger (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      lot_id text not null references credit_lots (id) on delete cascade,
      kind text not null check (kind in ('grant', 'reserve', 'release', 'consume', 'expire', 'revoke', 'adjust')),
      available_delta_cents integer not null,
      reserved_delta_cents integer not null default 0,
      amount_cents integer generated always as (available_delta_cents + reserved_delta_cents) stored,
      booking_id text references bookings (id) on delete set null,
      reason text not null,
      actor_type text not null default 'system' check (actor_type in ('user', 'service', 'system')),
      actor_id text,
      at timestamptz not null default now(),
      constraint credit_ledger_signs check (
        case kind
          when 'grant' then available_delta_cents > 0 and reserved_delta_cents = 0
          when 'adjust' then available_delta_cents <> 0 and reserved_delta_cents = 0
          when 'reserve' then available_delta_cents < 0 and reserved_delta_cents = -available_delta_cents
          when 'release' then available_delta_cents > 0 and reserved_delta_cents = -available_delta_cents
          when 'consume' then available_delta_cents = 0 and reserved_delta_cents < 0
          when 'expire' then available_delta_cents < 0 and reserved_delta_cents = 0
          when 'revoke' then available_delta_cents < 0 and reserved_delta_cents = 0
        end
      )
    );
    create index credit_ledger_user_idx on credit_ledger (user_id, at desc, id desc);
    create index credit_ledger_lot_idx on credit_ledger (lot_id);
    create index credit_ledger_booking_idx on credit_ledger (booking_id) where booking_id is not null;

    -- Loyalty (payments.md): each completed lesson of a student gets the next position, once.
    -- Positions never move, so a refunded lesson keeps its place (its award is revoked instead).
    create table loyalty_lessons (
      booking_id text primary key references bookings (id) on delete cascade,
      student_id text not null references users (id) on delete cascade,
      lesson_number integer not null check (lesson_number > 0),
      counted_at timestamptz not null default now(),
      unique (student_id, lesson_number)
    );

    create table loyalty_awards (
      id text primary key,
      student_id text not null references users (id) on delete cascade,
      booking_id text not null unique references bookings (id) on delete cascade,
      lesson_number integer not null check (lesson_number > 0),
      amount_cents integer not null check (amount_cents > 0),
      lot_id text not null references credit_lots (id),
      status text not null default 'granted' check (status in ('granted', 'revoked')),
      revoked_at timestamptz,
      -- what the revocation took back, and what had already been spent (never clawed back)
      revoked_cents integer not null default 0 check (revoked_cents >= 0),
      unrecovered_cents integer not null default 0 check (unrecovered_cents >= 0),
      created_at timestamptz not null default now()
    );
    create index loyalty_awards_student_idx on loyalty_awards (student_id, created_at desc);

    -- Tips: a separate card payment made with the review, 100% transferred to the instructor.
    create table tips (
      id text primary key,
      booking_id text not null unique references bookings (id),
      review_id text not null unique references reviews (id),
      student_id text not null references users (id),
      instructor_id text not null references instructor_profiles (user_id),
      amount_cents integer not null check (amount_cents > 0),
      currency text not null default 'usd' check (currency = 'usd'),
      status text not null default 'pending' check (status in ('pending', 'charged', 'transferred', 'failed')),
      provider text not null check (provider in ('stripe', 'offline')),
      payment_method_id text references payment_methods (id),
      customer_id text,
      payment_intent_id text,
      charge_id text,
      destination_account_id text,
      transfer_id text,
      failure_code text,
      failure_message text,
      charged_at timestamptz,
      transferred_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index tips_instructor_idx on tips (instructor_id, created_at desc);
    create index tips_open_idx on tips (created_at) where status in ('pending', 'charged');

    create table referral_codes (
      code text primary key check (code ~ '^[A-Z0-9]{6,16}$'),
      user_id text not null unique references users (id) on delete cascade,
      created_at timestamptz not null default now(),
      disabled_at timestamptz
    );

    -- Device and IP hashes seen for a user in the referral flow (the self-referral rule compares
    -- them). Only keyed hashes are stored, never the device data or the IP itself.
    create table referral_fingerprints (
      user_id text not null references users (id) on delete cascade,
      kind text not null check (kind in ('device', 'ip')),
      hash text not null check (length(hash) between 8 and 128),
      first_seen_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now(),
      primary key (user_id, kind, hash)
    );
    create index referral_fingerprints_hash_idx on referral_fingerprints (kind, hash);

    create table referral_attributions (
      id text primary key,
      code text not null references referral_codes (code),
      referrer_id text not null references users (id) on delete cascade,
      referred_id text not null references users (id) on delete cascade,
      kind text not null check (kind in ('student', 'instructor')),
      device_fingerprint_hash text,
      ip_hash text,
      card_fingerprint text,
      attributed_at timestamptz not null,
      -- attributed: waiting for the qualifying lesson; held: velocity review; qualified: rewards made;
      -- rejected: a fraud rule matched (see rejection_reason)
      status text not null check (status in ('attributed', 'held', 'qualified', 'rejected')),
      flagged boolean not null default false,
      flag_reason text,
      rejection_reason text,
      qualified_at timestamptz,
      qualifying_booking_id text references bookings (id) on delete set null,
      reviewed_at timestamptz,
      reviewed_by text,
      review_note text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint referral_attributions_not_self check (referrer_id <> referred_id)
    );
    -- A user is referred at most once (rejected attempts stay for the record).
    create unique index referral_attributions_referred_key on referral_attributions (referred_id) where status <> 'rejected';
    create index referral_attributions_referrer_idx on referral_attributions (referrer_id, attributed_at desc);
    create index referral_attributions_status_idx on referral_attributions (status, attributed_at desc);

    create table referral_rewards (
      id text primary key,
      attribution_id text not null references referral_attributions (id) on delete cascade,
      beneficiary_id text not null references users (id) on delete cascade,
      role text not null check (role in ('referrer', 'referred')),
      -- credit: student rewards as credits; cash: instructor referral paid by transfer
      kind text not null check (kind in ('credit', 'cash')),
      amount_cents integer not null check (amount_cents > 0),
      status text not null default 'pending' check (status in ('pending', 'unlocked', 'void', 'paid')),
      hold_until timestamptz not null,
      expires_at timestamptz not null,
      qualifying_booking_id text references bookings (id) on delete set null,
      lot_id text references credit_lots (id),
      destination_account_id text,
      transfer_id text,
      blocked_reason text,
      void_reason text,
      unlocked_at timestamptz,
      paid_at timestamptz,
      voided_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      -- only referrers of instructors are paid in cash
      constraint referral_rewards_cash_to_referrer check (kind = 'credit' or (role = 'referrer' and lot_id is null))
    );
    create unique index referral_rewards_live_key on referral_rewards (attribution_id, role) where status <> 'void';
    create index referral_rewards_due_idx on referral_rewards (hold_until) where status = 'pending';
    create index referral_rewards_beneficiary_idx on referral_rewards (beneficiary_id, created_at desc);
    create index referral_rewards_booking_idx on referral_rewards (qualifying_booking_id) where qualifying_booking_id is not null;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table if exists referral_rewards, referral_attributions, referral_fingerprints, referral_codes, tips,
      loyalty_awards, loyalty_lessons, credit_ledger, credit_reservations, credit_lots cascade;
  `.execute(db);
}
