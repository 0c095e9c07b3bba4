import { type Kysely, sql } from 'kysely';

/**
 * The first schema: identity and RBAC, instructors and the service catalog, NYC regions,
 * availability bitmaps, bookings that cannot overlap, reviews and the audit log.
 *
 * Conventions: ULID text ids (made by the application, sortable by creation time), snake_case
 * columns (Kysely's CamelCasePlugin maps them), money in integer cents (`*_cents`), instants in
 * `timestamptz` (`*_at`), local calendar days in `date` (`day`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create extension if not exists btree_gist;
    create extension if not exists pg_trgm;
    create extension if not exists cube;
    create extension if not exists earthdistance;

    -- timestamptz + interval is only STABLE in PostgreSQL (day/month steps depend on the time
    -- zone); adding whole minutes never does, so this wrapper is truly immutable and may be used
    -- in generated columns and exclusion constraints.
    create function ii_add_minutes(instant timestamptz, minutes integer) returns timestamptz
      language sql immutable parallel safe
      return instant + make_interval(mins => minutes);

    create table users (
      id text primary key,
      email text not null,
      email_verified_at timestamptz,
      password_hash text,
      first_name text not null,
      last_name text not null,
      phone text,
      phone_verified_at timestamptz,
      timezone text not null default 'America/New_York',
      status text not null default 'active' check (status in ('active', 'suspended', 'locked', 'deactivated')),
      status_reason text,
      totp_secret text,
      totp_enabled_at timestamptz,
      totp_last_used_step bigint,
      last_login_at timestamptz,
      last_active_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint users_email_shape check (position('@' in email) > 1 and length(email) <= 254)
    );
    create unique index users_email_lower_key on users (lower(email));
    create index users_phone_idx on users (phone) where phone is not null;
    create index users_name_trgm_idx on users using gin ((first_name || ' ' || last_name) gin_trgm_ops);

    create table two_factor_backup_codes (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      code_hash text not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index two_factor_backup_codes_user_idx on two_factor_backup_codes (user_id);

    create table roles (
      name text primary key check (name in ('admin', 'instructor', 'student', 'guest')),
      description text not null
    );
    create table permissions (
      name text primary key,
      description text not null
    );
    create table role_permissions (
      role text not null references roles (name) on delete cascade,
      permission text not null references permissions (name) on delete cascade,
      primary key (role, permission)
    );
    create table user_roles (
      user_id text not null references users (id) on delete cascade,
      role text not null references roles (name),
      granted_at timestamptz not null default now(),
      granted_by text references users (id),
      primary key (user_id, role)
    );

    create table service_categories (
      id text primary key,
      slug text not null unique,
      name text not null,
      description text not null default '',
      sort_order integer not null default 0
    );
    create table services (
      id text primary key,
      category_id text not null references service_categories (id),
      slug text not null unique,
      name text not null,
      description text not null default '',
      audiences text[] not null default '{kids,teens,adults}',
      skill_levels text[] not null default '{beginner,intermediate,advanced}',
      aliases text[] not null default '{}',
      online_capable boolean not null default true,
      is_active boolean not null default true,
      created_at timestamptz not null default now(),
      constraint services_audiences_known check (audiences <@ array['kids', 'teens', 'adults']),
      constraint services_skill_levels_known check (skill_levels <@ array['beginner', 'intermediate', 'advanced'])
    );
    create index services_category_idx on services (category_id);
    create index services_name_trgm_idx on services using gin (name gin_trgm_ops);

    create table instructor_profiles (
      user_id text primary key references users (id) on delete cascade,
      bio text not null default '',
      photo_url text,
      years_experience integer not null default 0 check (years_experience between 0 and 80),
      languages text[] not null default '{en}',
      studio_address text,
      studio_location point,
      verification_status text not null default 'unverified'
        check (verification_status in ('unverified', 'pending', 'verified', 'rejected')),
      identity_verified_at timestamptz,
      background_check_status text not null default 'not_started'
        check (background_check_status in ('not_started', 'pending', 'passed', 'failed')),
      background_check_completed_at timestamptz,
      is_founding boolean not null default false,
      founding_number integer unique check (founding_number between 1 and 100),
      founding_granted_at timestamptz,
      stripe_account_id text unique,
      payouts_enabled boolean not null default false,
      -- tier state (payments policy): the platform fee rate in basis points and when it was set
      tier_fee_bps integer not null default 1500 check (tier_fee_bps in (800, 1000, 1200, 1500)),
      tier_evaluated_at timestamptz,
      last_lesson_at timestamptz,
      response_rate numeric(4, 3),
      profile_completed_at timestamptz,
      is_live boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint instructor_profiles_founding_consistent check (is_founding = (founding_number is not null))
    );

    create table instructor_services (
      id text primary key,
      instructor_id text not null references instructor_profiles (user_id) on delete cascade,
      service_id text not null references services (id),
      hourly_rate_cents integer not null check (hourly_rate_cents between 1000 and 100000),
      durations integer[] not null default '{60}',
      location_types text[] not null default '{online}',
      description text not null default '',
      audiences text[] not null default '{kids,teens,adults}',
      skill_levels text[] not null default '{beginner,intermediate,advanced}',
      is_active boolean not null default true,
      deleted_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint instructor_services_location_types_known
        check (cardinality(location_types) > 0 and location_types <@ array['student_location', 'instructor_location', 'online', 'neutral_location']),
      constraint instructor_services_durations_valid
        check (cardinality(durations) > 0 and 30 <= all (durations) and 240 >= all (durations))
    );
    create unique index instructor_services_live_key on instructor_services (instructor_id, service_id) where deleted_at is null;
    create index instructor_services_service_idx on instructor_services (service_id) where deleted_at is null;

    create table regions (
      id text primary key,
      kind text not null check (kind in ('borough', 'neighborhood')),
      name text not null,
      slug text not null unique,
      borough text not null check (borough in ('Manhattan', 'Brooklyn', 'Queens', 'Bronx', 'Staten Island')),
      parent_id text references regions (id),
      boundary polygon not null,
      centroid point not null,
      created_at timestamptz not null default now()
    );
    create index regions_boundary_gist on regions using gist (boundary);
    create index regions_centroid_gist on regions using gist (centroid);
    create index regions_name_trgm_idx on regions using gin (name gin_trgm_ops);

    create table instructor_service_areas (
      instructor_id text not null references instructor_profiles (user_id) on delete cascade,
      region_id text not null references regions (id),
      primary key (instructor_id, region_id)
    );
    create index instructor_service_areas_region_idx on instructor_service_areas (region_id);

    -- Exact points are private: only the booking's two parties ever see them.
    create table user_addresses (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      label text not null default 'home',
      line1 text not null,
      line2 text,
      city text not null default 'New York',
      state text not null default 'NY',
      postal_code text not null,
      location point not null,
      region_id text references regions (id),
      is_default boolean not null default false,
      created_at timestamptz not null default now()
    );
    create index user_addresses_user_idx on user_addresses (user_id);
    create unique index user_addresses_one_default on user_addresses (user_id) where is_default;

    -- 1440 bits per local day: byte i holds minutes 8i..8i+7, most significant bit first
    -- (bit order documented once, in core/src/availability/bitmap.ts).
    create table availability_days (
      instructor_id text not null references instructor_profiles (user_id) on delete cascade,
      day date not null,
      bits bytea not null check (octet_length(bits) = 180),
      updated_at timestamptz not null default now(),
      primary key (instructor_id, day)
    );
    create table blackout_dates (
      instructor_id text not null references instructor_profiles (user_id) on delete cascade,
      day date not null,
      reason text,
      created_at timestamptz not null default now(),
      primary key (instructor_id, day)
    );

    create table bookings (
      id text primary key,
      student_id text not null references users (id),
      instructor_id text not null references instructor_profiles (user_id),
      service_id text not null references services (id),
      instructor_service_id text not null references instructor_services (id),
      status text not null default 'pending_payment'
        check (status in ('pending_payment', 'confirmed', 'completed', 'cancelled', 'no_show')),
      starts_at timestamptz not null,
      ends_at timestamptz not null,
      duration_minutes integer not null check (duration_minutes between 30 and 240),
      -- the buffer this lesson needs around it: 15 min, 60 min when it involves travel
      buffer_minutes integer not null default 15 check (buffer_minutes between 0 and 120),
      location_type text not null
        check (location_type in ('student_location', 'instructor_location', 'online', 'neutral_location')),
      location_address text,
      location_point point,
      location_region_id text references regions (id),
      hold_expires_at timestamptz,
      confirmed_at timestamptz,
      completed_at timestamptz,
      cancelled_at timestamptz,
      cancelled_by text check (cancelled_by in ('student', 'instructor', 'admin', 'system')),
      cancellation_reason text,
      no_show_reported_at timestamptz,
      student_note text,
      instructor_note text,
      -- price, fees and policy snapshotted when the booking is made
      hourly_rate_cents integer not null check (hourly_rate_cents > 0),
      lesson_price_cents integer not null check (lesson_price_cents > 0),
      student_fee_cents integer not null check (student_fee_cents >= 0),
      instructor_fee_bps integer not null check (instructor_fee_bps between 0 and 10000),
      instructor_fee_cents integer not null check (instructor_fee_cents >= 0),
      instructor_payout_cents integer not null check (instructor_payout_cents >= 0),
      policy_version text not null default 'v2.1.1',
      policy_snapshot jsonb not null default '{}',
      payment_status text not null default 'scheduled'
        check (payment_status in ('scheduled', 'authorized', 'locked', 'settled', 'payment_method_required', 'manual_review')),
      original_starts_at timestamptz,
      late_reschedule_used boolean not null default false,
      locked_at timestamptz,
      reschedule_count integer not null default 0,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      lesson_range tstzrange generated always as (tstzrange(starts_at, ends_at, '[)')) stored,
      trailing_range tstzrange generated always as
        (tstzrange(starts_at, ii_add_minutes(ends_at, buffer_minutes), '[)')) stored,
      leading_range tstzrange generated always as
        (tstzrange(ii_add_minutes(starts_at, -buffer_minutes), ends_at, '[)')) stored,
      constraint bookings_ends_after_start check (ends_at > starts_at),
      constraint bookings_duration_matches check (ends_at = ii_add_minutes(starts_at, duration_minutes)),
      constraint bookings_price_adds_up check (instructor_payout_cents = lesson_price_cents - instructor_fee_cents),
      -- Double booking is impossible by construction (spec: availability-and-booking.md).
      -- Instructor side: two lessons must be at least max(bufferA, bufferB) apart. Widening only
      -- the end enforces the earlier lesson's buffer, widening only the start enforces the later
      -- one's; together they give exactly the larger of the two.
      constraint bookings_instructor_no_overlap_after exclude using gist
        (instructor_id with =, trailing_range with &&)
        where (status in ('pending_payment', 'confirmed', 'completed', 'no_show')),
      constraint bookings_instructor_no_overlap_before exclude using gist
        (instructor_id with =, leading_range with &&)
        where (status in ('pending_payment', 'confirmed', 'completed', 'no_show')),
      -- Student side: no two lessons at once, on the lesson range itself.
      constraint bookings_student_no_overlap exclude using gist
        (student_id with =, lesson_range with &&)
        where (status in ('pending_payment', 'confirmed', 'completed', 'no_show'))
    );
    create index bookings_student_starts_idx on bookings (student_id, starts_at desc);
    create index bookings_instructor_starts_idx on bookings (instructor_id, starts_at desc);
    create index bookings_status_starts_idx on bookings (status, starts_at);
    create index bookings_hold_expiry_idx on bookings (hold_expires_at) where status = 'pending_payment';

    -- Everything that happened to a booking, in order: the timeline ops staff ask for.
    create table booking_events (
      id text primary key,
      booking_id text not null references bookings (id) on delete cascade,
      type text not null,
      actor_type text not null check (actor_type in ('user', 'service', 'system')),
      actor_id text,
      data jsonb not null default '{}',
      at timestamptz not null default now()
    );
    create index booking_events_booking_idx on booking_events (booking_id, at);

    create table reviews (
      id text primary key,
      booking_id text not null unique references bookings (id),
      student_id text not null references users (id),
      instructor_id text not null references instructor_profiles (user_id),
      rating smallint not null check (rating between 1 and 5),
      comment text,
      is_hidden boolean not null default false,
      created_at timestamptz not null default now()
    );
    create index reviews_instructor_idx on reviews (instructor_id, created_at desc);

    create table audit_log (
      id text primary key,
      at timestamptz not null default now(),
      actor_type text not null check (actor_type in ('user', 'service', 'system')),
      actor_id text,
      -- for service principals (the MCP server): who asked, for the trail only
      on_behalf_of text,
      client_id text,
      action text not null,
      resource_type text not null,
      resource_id text,
      before jsonb,
      after jsonb,
      reason text,
      request_id text,
      ip_hash text,
      outcome text not null default 'success' check (outcome in ('success', 'denied', 'failure')),
      metadata jsonb not null default '{}'
    );
    create index audit_log_at_idx on audit_log (at desc);
    create index audit_log_resource_idx on audit_log (resource_type, resource_id, at desc);
    create index audit_log_actor_idx on audit_log (actor_id, at desc);
    create index audit_log_action_idx on audit_log (action, at desc);
  `.execute(db);

  await seedPermissionCatalogue(db);
}

/** Roles and the permission catalogue are reference data every tier needs, so they ship here. */
const PERMISSIONS: Record<string, string> = {
  'profile:read:own': 'Read your own account',
  'profile:update:own': 'Change your own account, password and two-factor settings',
  'bookings:create': 'Book a lesson',
  'bookings:read:own': 'See lessons you take or teach',
  'bookings:cancel:own': 'Cancel a lesson you take or teach',
  'bookings:reschedule:own': 'Reschedule a lesson you take',
  'bookings:complete:own': 'Mark a lesson you taught as complete, add teaching notes',
  'bookings:read:any': 'See any booking',
  'bookings:cancel:any': 'Cancel any booking (policy or force)',
  'bookings:manage:any': 'Complete bookings and resolve no-show disputes',
  'availability:manage:own': 'Edit your own availability and blackout dates',
  'instructor_profile:manage:own': 'Edit your instructor profile, services and service areas',
  'payments:read:own': 'See your payment methods, receipts and credits',
  'payouts:read:own': 'See your earnings and payouts',
  'payments:read:any': 'See any payment, the payment pipeline and the manual-review queue',
  'payments:refund': 'Refund a payment',
  'credits:adjust': 'Add or remove student credits',
  'reviews:create': 'Review a lesson you took',
  'reviews:moderate': 'Hide or restore reviews',
  'messages:send': 'Message the other party of a booking',
  'users:read:any': 'Look up any user (contact details masked)',
  'users:read:pii': 'See unmasked email addresses and phone numbers',
  'users:manage': 'Suspend, unsuspend, reset two-factor',
  'roles:assign': 'Grant and revoke roles',
  'instructors:read:any': 'See any instructor, including unpublished ones',
  'instructors:verify': 'Approve identity and background checks',
  'catalog:manage': 'Create and edit service categories and services',
  'invites:read': 'See instructor invites',
  'invites:send': 'Send instructor invites',
  'founding:read': 'See the founding-instructor funnel',
  'search_analytics:read': 'See search analytics and zero-result gaps',
  'aliases:manage': 'Approve or reject learned search aliases',
  'monitoring:access': 'See workers, queues, jobs, metrics and pipeline health',
  'jobs:retry': 'Retry failed jobs',
  'audit:read': 'Read the audit log',
  'rate_limits:manage': 'Change rate limits at run time',
};

const ROLE_PERMISSIONS: Record<string, { description: string; permissions: string[] }> = {
  admin: { description: 'Platform staff with every permission', permissions: Object.keys(PERMISSIONS) },
  instructor: {
    description: 'Teaches lessons',
    permissions: [
      'profile:read:own',
      'profile:update:own',
      'bookings:read:own',
      'bookings:cancel:own',
      'bookings:complete:own',
      'availability:manage:own',
      'instructor_profile:manage:own',
      'payouts:read:own',
      'messages:send',
    ],
  },
  student: {
    description: 'Books lessons',
    permissions: [
      'profile:read:own',
      'profile:update:own',
      'bookings:create',
      'bookings:read:own',
      'bookings:cancel:own',
      'bookings:reschedule:own',
      'payments:read:own',
      'reviews:create',
      'messages:send',
    ],
  },
  guest: {
    description: 'Signed-in account that has not chosen a role yet; can browse',
    permissions: ['profile:read:own', 'profile:update:own'],
  },
};

async function seedPermissionCatalogue(db: Kysely<unknown>): Promise<void> {
  for (const [name, description] of Object.entries(PERMISSIONS)) {
    await sql`insert into permissions (name, description) values (${name}, ${description})`.execute(db);
  }
  for (const [role, { description, permissions }] of Object.entries(ROLE_PERMISSIONS)) {
    await sql`insert into roles (name, description) values (${role}, ${description})`.execute(db);
    for (const permission of permissions) {
      await sql`insert into role_permissions (role, permission) values (${role}, ${permission})`.execute(db);
    }
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table if exists audit_log, reviews, booking_events, bookings, blackout_dates, availability_days,
      user_addresses, instructor_service_areas, regions, instructor_services, instructor_profiles,
      services, service_categories, user_roles, role_permissions, permissions, roles,
      two_factor_backup_codes, users cascade;
    drop function if exists ii_add_minutes(timestamptz, integer);
  `.execute(db);
}
