import { type Kysely, sql } from 'kysely';

/**
 * Payments (spec/payments.md, policy v2.1.1): saved cards, the money state of each booking, a
 * ledger of every call made to the payment provider under its idempotency key, the Stripe webhook
 * event ledger, reconciliation findings, and the offline provider's own records.
 *
 * `bookings.payment_status` stays the one status filters use; `booking_payments` holds the
 * details (provider ids, attempts, amounts, the settlement) behind it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- A student's customer record at the payment provider (Stripe Customer, or an offline one).
    create table payment_customers (
      user_id text primary key references users (id) on delete cascade,
      provider text not null check (provider in ('stripe', 'offline')),
      customer_id text not null unique,
      created_at timestamptz not null default now()
    );

    -- Saved cards (Stripe SetupIntent → PaymentMethod). Only brand, last 4 and expiry are kept.
    create table payment_methods (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      provider text not null check (provider in ('stripe', 'offline')),
      provider_payment_method_id text not null unique,
      brand text not null default 'card',
      last4 text not null default '0000' check (last4 ~ '^[0-9]{4}$'),
      exp_month integer check (exp_month between 1 and 12),
      exp_year integer check (exp_year between 2000 and 2200),
      -- Stripe's card fingerprint: the same card across accounts (referral fraud rule).
      card_fingerprint text,
      is_default boolean not null default false,
      created_at timestamptz not null default now(),
      detached_at timestamptz
    );
    create index payment_methods_user_idx on payment_methods (user_id) where detached_at is null;
    create unique index payment_methods_one_default on payment_methods (user_id) where is_default and detached_at is null;
    create index payment_methods_fingerprint_idx on payment_methods (card_fingerprint) where card_fingerprint is not null;

    -- Instructors' connected payout accounts live on instructor_profiles (stripe_account_id,
    -- payouts_enabled); this records which provider made the account and its onboarding state.
    alter table instructor_profiles
      add column payout_provider text check (payout_provider in ('stripe', 'offline')),
      add column payout_details_submitted boolean not null default false,
      add column payout_account_updated_at timestamptz;

    -- The money state of one booking. Amounts are copied from the booking snapshot at checkout.
    create table booking_payments (
      booking_id text primary key references bookings (id) on delete cascade,
      provider text not null check (provider in ('stripe', 'offline')),
      currency text not null default 'usd' check (currency = 'usd'),
      -- what the card is authorized for: (lesson price − credits applied) + student fee
      card_amount_cents integer not null check (card_amount_cents >= 0),
      credits_applied_cents integer not null default 0 check (credits_applied_cents >= 0),
      payment_method_id text references payment_methods (id),
      customer_id text,
      -- when the authorization is due (lesson start − 24 h, or at checkout)
      authorize_at timestamptz not null,
      payment_intent_id text unique,
      charge_id text,
      authorized_at timestamptz,
      -- read from the charge (payment_method_details.card.capture_before), never assumed
      authorization_expires_at timestamptz,
      auth_attempts integer not null default 0,
      next_auth_attempt_at timestamptz,
      last_failure_code text,
      last_failure_message text,
      failure_notified_at timestamptz,
      final_warning_sent_at timestamptz,
      captured_at timestamptz,
      captured_cents integer not null default 0 check (captured_cents >= 0),
      capture_attempts integer not null default 0,
      next_capture_attempt_at timestamptz,
      capture_failed_since timestamptz,
      refunded_cents integer not null default 0 check (refunded_cents >= 0),
      refund_ids text[] not null default '{}',
      transfer_id text,
      transferred_cents integer not null default 0 check (transferred_cents >= 0),
      transferred_at timestamptz,
      reversal_id text,
      -- capture failed for good: the platform paid the instructor anyway (payments.md §Authorization)
      payout_advanced_at timestamptz,
      -- the settlement applied (outcome of the cancellation quote, or 'completed', 'no_show_refund'…)
      settlement_outcome text,
      settlement_student_credit_cents integer,
      settlement_instructor_payout_cents integer,
      settlement_card_refund_cents integer,
      settlement_fee_kept_cents integer,
      settlement_quote jsonb,
      settled_at timestamptz,
      -- no-show: reported → disputed → confirmed | rejected
      no_show_state text check (no_show_state in ('reported', 'disputed', 'confirmed', 'rejected')),
      no_show_dispute_deadline_at timestamptz,
      no_show_resolved_at timestamptz,
      manual_review_reason text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index booking_payments_authorize_idx on booking_payments (authorize_at) where authorized_at is null and settled_at is null;
    create index booking_payments_next_auth_idx on booking_payments (next_auth_attempt_at) where next_auth_attempt_at is not null;
    create index booking_payments_next_capture_idx on booking_payments (next_capture_attempt_at) where next_capture_attempt_at is not null;
    create index booking_payments_auth_expiry_idx on booking_payments (authorization_expires_at) where captured_at is null and authorized_at is not null;

    -- Every call to the payment provider, under the idempotency key it was sent with
    -- ('capture:{booking_id}:{attempt}'). Written 'pending' before the call and completed after,
    -- so a crash in between is visible and the retry reuses the key (Stripe replays the answer).
    create table payment_operations (
      id text primary key,
      booking_id text references bookings (id) on delete set null,
      user_id text references users (id) on delete set null,
      provider text not null check (provider in ('stripe', 'offline')),
      purpose text not null,
      idempotency_key text not null unique check (length(idempotency_key) <= 255),
      attempt integer not null default 1,
      amount_cents integer check (amount_cents >= 0),
      status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
      provider_object_id text,
      error_code text,
      error_message text,
      request jsonb not null default '{}',
      response jsonb,
      created_at timestamptz not null default now(),
      completed_at timestamptz
    );
    create index payment_operations_booking_idx on payment_operations (booking_id, created_at);
    create index payment_operations_user_idx on payment_operations (user_id, created_at desc);
    create index payment_operations_pending_idx on payment_operations (created_at) where status = 'pending';
    create index payment_operations_object_idx on payment_operations (provider_object_id) where provider_object_id is not null;

    -- Stripe webhook events, recorded under their event id before anything is done with them.
    create table webhook_events (
      id text primary key,
      provider text not null default 'stripe',
      type text not null,
      object_id text,
      api_version text,
      livemode boolean not null default false,
      payload jsonb not null,
      received_at timestamptz not null default now(),
      receive_count integer not null default 1,
      processed_at timestamptz,
      outcome text,
      processing_error text
    );
    create index webhook_events_unprocessed_idx on webhook_events (received_at) where processed_at is null;
    create index webhook_events_object_idx on webhook_events (object_id, received_at);

    -- Differences between our payment state and the provider's, found by reconciliation.
    create table payment_mismatches (
      id text primary key,
      booking_id text references bookings (id) on delete cascade,
      kind text not null,
      ours jsonb not null default '{}',
      theirs jsonb not null default '{}',
      detected_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now(),
      resolved_at timestamptz,
      resolved_by text,
      resolution_note text
    );
    create unique index payment_mismatches_open_key on payment_mismatches (booking_id, kind) where resolved_at is null;

    -- The offline provider's own objects (payment intents, transfers, refunds, setup intents,
    -- accounts): what Stripe would hold, kept in our database for the embedded default.
    create table offline_payment_objects (
      id text primary key,
      kind text not null check (kind in ('customer', 'setup_intent', 'payment_method', 'payment_intent', 'refund', 'transfer', 'transfer_reversal', 'account')),
      status text not null,
      amount_cents integer,
      amount_captured_cents integer not null default 0,
      amount_refunded_cents integer not null default 0,
      idempotency_key text unique,
      parent_id text,
      data jsonb not null default '{}',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index offline_payment_objects_parent_idx on offline_payment_objects (parent_id) where parent_id is not null;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table if exists offline_payment_objects, payment_mismatches, webhook_events, payment_operations, booking_payments,
      payment_methods, payment_customers cascade;
    alter table instructor_profiles
      drop column if exists payout_provider,
      drop column if exists payout_details_submitted,
      drop column if exists payout_account_updated_at;
  `.execute(db);
}
