import type { BookingPayments, DB, JsonValue } from '@instainstru/db';
import { type Kysely, type Selectable, sql } from 'kysely';

/** Every SQL statement the read-only payment views run: rows in, rows out. */

/** Per-source cap of timeline rows: a booking with more than this is broken, and the cap says so. */
export const TIMELINE_SOURCE_LIMIT = 500;

export type BookingPaymentRow = Selectable<BookingPayments>;

export async function findBookingSummary(db: Kysely<DB>, bookingId: string) {
  return db
    .selectFrom('bookings as b')
    .innerJoin('services as s', 's.id', 'b.serviceId')
    .innerJoin('users as su', 'su.id', 'b.studentId')
    .innerJoin('users as iu', 'iu.id', 'b.instructorId')
    .select([
      'b.id',
      'b.status',
      'b.paymentStatus',
      'b.studentId',
      'b.instructorId',
      's.name as serviceName',
      'su.firstName as studentFirstName',
      'su.lastName as studentLastName',
      'iu.firstName as instructorFirstName',
      'iu.lastName as instructorLastName',
      'b.startsAt',
      'b.endsAt',
      'b.durationMinutes',
      'b.createdAt',
      'b.cancelledAt',
      'b.cancelledBy',
      'b.cancellationReason',
      'b.lockedAt',
      'b.originalStartsAt',
      'b.lateRescheduleUsed',
      'b.noShowReportedAt',
      'b.policyVersion',
      'b.lessonPriceCents',
      'b.studentFeeCents',
      'b.instructorFeeBps',
      'b.instructorFeeCents',
      'b.instructorPayoutCents',
    ])
    .where('b.id', '=', bookingId)
    .executeTakeFirst();
}
export type BookingSummaryRow = NonNullable<Awaited<ReturnType<typeof findBookingSummary>>>;

export async function findBookingPayment(db: Kysely<DB>, bookingId: string): Promise<BookingPaymentRow | undefined> {
  return db.selectFrom('bookingPayments').selectAll().where('bookingId', '=', bookingId).executeTakeFirst();
}

export async function findBookingEvents(db: Kysely<DB>, bookingId: string) {
  return db
    .selectFrom('bookingEvents')
    .select(['id', 'type', 'actorType', 'actorId', 'data', 'at'])
    .where('bookingId', '=', bookingId)
    .orderBy('at')
    .orderBy('id')
    .limit(TIMELINE_SOURCE_LIMIT)
    .execute();
}

export async function findOperationsForBooking(db: Kysely<DB>, bookingId: string) {
  return db
    .selectFrom('paymentOperations')
    .select([
      'id',
      'userId',
      'provider',
      'purpose',
      'idempotencyKey',
      'attempt',
      'amountCents',
      'status',
      'providerObjectId',
      'errorCode',
      'errorMessage',
      'createdAt',
      'completedAt',
    ])
    .where('bookingId', '=', bookingId)
    .orderBy('createdAt')
    .orderBy('id')
    .limit(TIMELINE_SOURCE_LIMIT)
    .execute();
}

/** Webhook events about any of these provider objects (payload left out: it is Stripe's copy of the object). */
export async function findWebhookEventsForObjects(db: Kysely<DB>, objectIds: string[]) {
  if (objectIds.length === 0) return [];
  return db
    .selectFrom('webhookEvents')
    .select(['id', 'provider', 'type', 'objectId', 'livemode', 'receivedAt', 'receiveCount', 'processedAt', 'outcome', 'processingError'])
    .where('objectId', 'in', objectIds)
    .orderBy('receivedAt')
    .limit(TIMELINE_SOURCE_LIMIT)
    .execute();
}

/**
 * Audit records whose resource is the booking, whatever their resource type (booking, payment,
 * refund…). The index is on (resource_type, resource_id), so the distinct resource types are
 * walked first (a loose index scan, one probe per type) and each is probed for the booking id,
 * instead of scanning the whole log.
 */
export async function findAuditForBooking(db: Kysely<DB>, bookingId: string) {
  const { rows } = await sql<{
    id: string;
    at: Date;
    actorType: string;
    actorId: string | null;
    onBehalfOf: string | null;
    action: string;
    resourceType: string;
    before: JsonValue | null;
    after: JsonValue | null;
    reason: string | null;
    outcome: string;
    metadata: JsonValue;
  }>`
    with recursive types (resource_type) as (
      (select resource_type from audit_log order by resource_type limit 1)
      union all
      select (select a.resource_type from audit_log a where a.resource_type > t.resource_type order by a.resource_type limit 1)
      from types t where t.resource_type is not null
    )
    select a.id, a.at, a.actor_type, a.actor_id, a.on_behalf_of, a.action, a.resource_type, a.before, a.after, a.reason, a.outcome, a.metadata
    from types t
    join audit_log a on a.resource_type = t.resource_type and a.resource_id = ${bookingId}
    order by a.at, a.id
    limit ${TIMELINE_SOURCE_LIMIT}
  `.execute(db);
  return rows;
}

export async function findMismatchesForBooking(db: Kysely<DB>, bookingId: string) {
  return db
    .selectFrom('paymentMismatches')
    .select(['id', 'kind', 'ours', 'theirs', 'detectedAt', 'lastSeenAt', 'resolvedAt', 'resolvedBy', 'resolutionNote'])
    .where('bookingId', '=', bookingId)
    .orderBy('detectedAt')
    .limit(TIMELINE_SOURCE_LIMIT)
    .execute();
}

export interface PipelineWindow {
  from: Date;
  to: Date;
}

/** Bookings whose lesson starts in the window, per payment status and per provider. */
export async function findPipelineByStatus(db: Kysely<DB>, window: PipelineWindow) {
  const { rows } = await sql<{
    paymentStatus: string;
    provider: string;
    count: number;
    lessonPriceCents: number;
    cardAmountCents: number;
    capturedCents: number;
    refundedCents: number;
  }>`
    select b.payment_status, coalesce(bp.provider, 'none') as provider, count(*)::int as count,
      coalesce(sum(b.lesson_price_cents), 0)::bigint as lesson_price_cents,
      coalesce(sum(bp.card_amount_cents), 0)::bigint as card_amount_cents,
      coalesce(sum(bp.captured_cents), 0)::bigint as captured_cents,
      coalesce(sum(bp.refunded_cents), 0)::bigint as refunded_cents
    from bookings b
    left join booking_payments bp on bp.booking_id = b.id
    where b.starts_at >= ${window.from} and b.starts_at < ${window.to}
    group by b.payment_status, coalesce(bp.provider, 'none')
  `.execute(db);
  return rows.map((row) => ({
    ...row,
    count: Number(row.count),
    lessonPriceCents: Number(row.lessonPriceCents),
    cardAmountCents: Number(row.cardAmountCents),
    capturedCents: Number(row.capturedCents),
    refundedCents: Number(row.refundedCents),
  }));
}

/**
 * What is due around `now`, whatever the window: authorizations (T−24h) and captures
 * (end + 24h) due within `horizonHours` or already overdue, failures being retried, the
 * manual-review queue and instructor payouts owed (settled or completed, not fully transferred).
 */
export async function findPipelineDue(db: Kysely<DB>, now: Date, horizonHours: number) {
  const { rows } = await sql<{
    stage: string;
    count: number;
    overdue: number;
    amountCents: number;
    nextAt: Date | null;
  }>`
    with live as (
      select b.id, b.status, b.payment_status, b.starts_at, b.ends_at, b.instructor_payout_cents,
        coalesce(bp.authorize_at, b.starts_at - interval '24 hours') as authorize_at,
        b.ends_at + interval '24 hours' as capture_at,
        coalesce(bp.card_amount_cents, b.lesson_price_cents + b.student_fee_cents) as card_amount_cents,
        bp.booking_id is not null as has_payment, bp.authorized_at, bp.captured_at, bp.settled_at,
        bp.next_auth_attempt_at, bp.next_capture_attempt_at, bp.capture_failed_since,
        coalesce(bp.transferred_cents, 0) as transferred_cents,
        case
          when bp.settled_at is not null then coalesce(bp.settlement_instructor_payout_cents, 0)
          when b.status = 'completed' and bp.captured_at is not null then b.instructor_payout_cents
          else 0
        end as payout_due_cents
      from bookings b
      left join booking_payments bp on bp.booking_id = b.id
      -- cancelled bookings owe nothing unless a settlement (late cancellation) says so
      where b.status <> 'cancelled' or bp.settled_at is not null
    )
    select 'authorizations_due' as stage,
      count(*)::int as count,
      count(*) filter (where authorize_at <= ${now})::int as overdue,
      coalesce(sum(card_amount_cents), 0)::bigint as amount_cents,
      min(authorize_at) as next_at
    from live
    where payment_status = 'scheduled' and status in ('pending_payment', 'confirmed') and authorized_at is null
      and authorize_at < ${now}::timestamptz + make_interval(hours => ${horizonHours})
    union all
    select 'captures_due', count(*)::int, count(*) filter (where capture_at <= ${now})::int,
      coalesce(sum(card_amount_cents), 0)::bigint, min(capture_at)
    from live
    where payment_status = 'authorized' and status in ('confirmed', 'completed') and captured_at is null
      and capture_failed_since is null
      and capture_at < ${now}::timestamptz + make_interval(hours => ${horizonHours})
    union all
    select 'authorization_retries', count(*)::int, count(*) filter (where next_auth_attempt_at <= ${now})::int,
      coalesce(sum(card_amount_cents), 0)::bigint, min(next_auth_attempt_at)
    from live
    where payment_status = 'payment_method_required' and status in ('pending_payment', 'confirmed')
    union all
    select 'capture_retries', count(*)::int, count(*) filter (where next_capture_attempt_at <= ${now})::int,
      coalesce(sum(card_amount_cents), 0)::bigint, min(next_capture_attempt_at)
    from live
    where capture_failed_since is not null and captured_at is null and payment_status <> 'manual_review'
    union all
    select 'manual_review', count(*)::int, 0, coalesce(sum(card_amount_cents), 0)::bigint, null
    from live
    where payment_status = 'manual_review'
    union all
    select 'transfers_owed', count(*)::int, 0, coalesce(sum(payout_due_cents - transferred_cents), 0)::bigint, null
    from live
    where payout_due_cents > transferred_cents
  `.execute(db);
  return rows.map((row) => ({ ...row, count: Number(row.count), overdue: Number(row.overdue), amountCents: Number(row.amountCents) }));
}

/** Manual-review queue rows, oldest first; `since` keyed with microseconds so pages never repeat a row. */
export async function findManualReviewRows(
  db: Kysely<DB>,
  input: { limit: number; after?: { sinceKey: string; bookingId: string } | undefined },
) {
  const after = input.after;
  const { rows } = await sql<{
    bookingId: string;
    status: string;
    startsAt: Date;
    endsAt: Date;
    serviceName: string;
    studentId: string;
    studentFirstName: string;
    studentLastName: string;
    instructorId: string;
    instructorFirstName: string;
    instructorLastName: string;
    lessonPriceCents: number;
    studentFeeCents: number;
    instructorPayoutCents: number;
    provider: string | null;
    cardAmountCents: number | null;
    creditsAppliedCents: number | null;
    capturedCents: number | null;
    refundedCents: number | null;
    transferredCents: number | null;
    payoutAdvancedAt: Date | null;
    lastFailureCode: string | null;
    lastFailureMessage: string | null;
    noShowState: string | null;
    captureFailedSince: Date | null;
    reason: string;
    since: Date;
    sinceKey: string;
  }>`
    select * from (
      select b.id as booking_id, b.status, b.starts_at, b.ends_at, s.name as service_name,
        b.student_id, su.first_name as student_first_name, su.last_name as student_last_name,
        b.instructor_id, iu.first_name as instructor_first_name, iu.last_name as instructor_last_name,
        b.lesson_price_cents, b.student_fee_cents, b.instructor_payout_cents,
        bp.provider, bp.card_amount_cents, bp.credits_applied_cents, bp.captured_cents, bp.refunded_cents, bp.transferred_cents,
        bp.payout_advanced_at, bp.last_failure_code, bp.last_failure_message, bp.no_show_state, bp.capture_failed_since,
        coalesce(
          bp.manual_review_reason,
          case bp.no_show_state when 'reported' then 'no_show_reported' when 'disputed' then 'no_show_disputed' end,
          case when bp.capture_failed_since is not null then 'capture_failed' end,
          'unspecified'
        ) as reason,
        coalesce(ev.at, bp.capture_failed_since, b.no_show_reported_at, bp.updated_at, b.updated_at) as since
      from bookings b
      join services s on s.id = b.service_id
      join users su on su.id = b.student_id
      join users iu on iu.id = b.instructor_id
      left join booking_payments bp on bp.booking_id = b.id
      left join lateral (
        select max(e.at) as at from booking_events e
        -- payment_manual_review (capture failed for good), or any event that set the status; not *_resolved
        where e.booking_id = b.id
          and ((e.type like '%manual_review%' and e.type not like '%resolved%') or e.data ->> 'paymentStatus' = 'manual_review')
      ) ev on true
      where b.payment_status = 'manual_review'
    ) q
    cross join lateral (select to_char(q.since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as since_key) k
    where ${after ? sql`(q.since, q.booking_id) > (${after.sinceKey}::timestamptz, ${after.bookingId})` : sql`true`}
    order by q.since, q.booking_id
    limit ${input.limit + 1}
  `.execute(db);
  return rows;
}

/** A timestamp with its microseconds, for keyset cursors (a JS Date keeps only milliseconds). */
const createdKey = sql<string>`to_char(o.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Keyset position after (created_at, id) in newest-first order. */
export interface CreatedCursor {
  createdKey: string;
  id: string;
}

function olderThan(after: CreatedCursor) {
  return sql<boolean>`(o.created_at, o.id) < (${after.createdKey}::timestamptz, ${after.id})`;
}

export interface OperationFilter {
  limit: number;
  after?: CreatedCursor | undefined;
  bookingId?: string | undefined;
  userId?: string | undefined;
  purpose?: string | undefined;
  status?: string | undefined;
  provider?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** Payment operations, newest first. A user matches as the operation's user or either party of its booking. */
export async function findOperationRows(db: Kysely<DB>, filter: OperationFilter) {
  let query = db
    .selectFrom('paymentOperations as o')
    .leftJoin('bookings as b', 'b.id', 'o.bookingId')
    .select([
      'o.id',
      'o.bookingId',
      'o.userId',
      'o.provider',
      'o.purpose',
      'o.idempotencyKey',
      'o.attempt',
      'o.amountCents',
      'o.status',
      'o.providerObjectId',
      'o.errorCode',
      'o.errorMessage',
      'o.createdAt',
      'o.completedAt',
      'b.studentId',
      'b.instructorId',
      createdKey.as('createdKey'),
    ])
    .orderBy('o.createdAt', 'desc')
    .orderBy('o.id', 'desc')
    .limit(filter.limit + 1);
  if (filter.after) query = query.where(olderThan(filter.after));
  if (filter.bookingId) query = query.where('o.bookingId', '=', filter.bookingId);
  if (filter.purpose) query = query.where('o.purpose', '=', filter.purpose);
  if (filter.status) query = query.where('o.status', '=', filter.status);
  if (filter.provider) query = query.where('o.provider', '=', filter.provider);
  if (filter.from) query = query.where('o.createdAt', '>=', filter.from);
  if (filter.to) query = query.where('o.createdAt', '<', filter.to);
  const userId = filter.userId;
  if (userId) {
    query = query.where((eb) => eb.or([eb('o.userId', '=', userId), eb('b.studentId', '=', userId), eb('b.instructorId', '=', userId)]));
  }
  return query.execute();
}

function receiptQuery(db: Kysely<DB>, studentId: string) {
  return db
    .selectFrom('bookings as b')
    .innerJoin('bookingPayments as bp', 'bp.bookingId', 'b.id')
    .innerJoin('services as s', 's.id', 'b.serviceId')
    .innerJoin('users as iu', 'iu.id', 'b.instructorId')
    .leftJoin('paymentMethods as pm', 'pm.id', 'bp.paymentMethodId')
    .select([
      'b.id as bookingId',
      'b.status',
      'b.paymentStatus',
      'b.startsAt',
      'b.durationMinutes',
      'b.lessonPriceCents',
      'b.studentFeeCents',
      's.name as serviceName',
      'iu.firstName as instructorFirstName',
      'iu.lastName as instructorLastName',
      'bp.provider',
      'bp.cardAmountCents',
      'bp.creditsAppliedCents',
      'bp.authorizedAt',
      'bp.capturedAt',
      'bp.capturedCents',
      'bp.refundedCents',
      'bp.settlementOutcome',
      'bp.settlementStudentCreditCents',
      'bp.settlementCardRefundCents',
      'bp.settledAt',
      'pm.brand as cardBrand',
      'pm.last4 as cardLast4',
    ])
    .where('b.studentId', '=', studentId);
}
export type ReceiptRow = Awaited<ReturnType<ReturnType<typeof receiptQuery>['executeTakeFirstOrThrow']>>;

/** The student's bookings that have a payment record, latest lesson first. */
export async function findReceiptRows(
  db: Kysely<DB>,
  studentId: string,
  input: { limit: number; after?: { startsAt: string; id: string } | undefined },
): Promise<ReceiptRow[]> {
  let query = receiptQuery(db, studentId)
    .orderBy('b.startsAt', 'desc')
    .orderBy('b.id', 'desc')
    .limit(input.limit + 1);
  const after = input.after;
  if (after) query = query.where((eb) => eb(eb.refTuple('b.startsAt', 'b.id'), '<', eb.tuple(new Date(after.startsAt), after.id)));
  return query.execute();
}

/** One receipt, only when the booking is the student's own (undefined otherwise). */
export async function findReceiptRow(db: Kysely<DB>, studentId: string, bookingId: string): Promise<ReceiptRow | undefined> {
  return receiptQuery(db, studentId).where('b.id', '=', bookingId).executeTakeFirst();
}

/**
 * An instructor's earnings per period of lesson start (New York calendar): completed lessons and
 * their gross, fee and payout; cancellation compensation (late cancellations pay 50% of P);
 * what was transferred and what is still owed.
 */
export async function findEarningsRows(db: Kysely<DB>, input: { instructorId: string; period: 'month' | 'week'; from: Date; to: Date }) {
  const { rows } = await sql<{
    periodStart: string;
    lessons: number;
    grossLessonPriceCents: number;
    platformFeeCents: number;
    lessonPayoutCents: number;
    cancellationPayoutCents: number;
    paidCents: number;
    pendingCents: number;
  }>`
    with earning as (
      select b.status, b.lesson_price_cents, b.instructor_fee_cents,
        case
          when bp.settled_at is not null then coalesce(bp.settlement_instructor_payout_cents, 0)
          when b.status = 'completed' then b.instructor_payout_cents
          else 0
        end as payout_cents,
        coalesce(bp.transferred_cents, 0) as transferred_cents,
        to_char(date_trunc(${input.period}, b.starts_at at time zone 'America/New_York'), 'YYYY-MM-DD') as period_start
      from bookings b
      left join booking_payments bp on bp.booking_id = b.id
      where b.instructor_id = ${input.instructorId}
        and b.starts_at >= ${input.from} and b.starts_at < ${input.to}
        and (b.status = 'completed' or coalesce(bp.settlement_instructor_payout_cents, 0) > 0 or coalesce(bp.transferred_cents, 0) > 0)
    )
    select period_start,
      count(*) filter (where status = 'completed')::int as lessons,
      coalesce(sum(lesson_price_cents) filter (where status = 'completed'), 0)::bigint as gross_lesson_price_cents,
      coalesce(sum(instructor_fee_cents) filter (where status = 'completed'), 0)::bigint as platform_fee_cents,
      coalesce(sum(payout_cents) filter (where status = 'completed'), 0)::bigint as lesson_payout_cents,
      coalesce(sum(payout_cents) filter (where status <> 'completed'), 0)::bigint as cancellation_payout_cents,
      coalesce(sum(transferred_cents), 0)::bigint as paid_cents,
      coalesce(sum(greatest(payout_cents - transferred_cents, 0)), 0)::bigint as pending_cents
    from earning
    group by period_start
    order by period_start desc
  `.execute(db);
  return rows.map((row) => ({
    periodStart: row.periodStart,
    lessons: Number(row.lessons),
    grossLessonPriceCents: Number(row.grossLessonPriceCents),
    platformFeeCents: Number(row.platformFeeCents),
    lessonPayoutCents: Number(row.lessonPayoutCents),
    cancellationPayoutCents: Number(row.cancellationPayoutCents),
    paidCents: Number(row.paidCents),
    pendingCents: Number(row.pendingCents),
  }));
}

export async function findPayoutProvider(db: Kysely<DB>, instructorId: string): Promise<string | null> {
  const row = await db.selectFrom('instructorProfiles').select('payoutProvider').where('userId', '=', instructorId).executeTakeFirst();
  return row?.payoutProvider ?? null;
}

/** Money movements to an instructor: transfers for their lessons (and tips), advanced payouts, referral payouts, reversals. */
export const TRANSFER_PURPOSES = ['transfer', 'advance-payout', 'tip-transfer', 'referral-payout', 'transfer-reversal'] as const;

export async function findTransferRows(db: Kysely<DB>, input: { instructorId: string; limit: number; after?: CreatedCursor | undefined }) {
  let query = db
    .selectFrom('paymentOperations as o')
    .leftJoin('bookings as b', 'b.id', 'o.bookingId')
    .leftJoin('services as s', 's.id', 'b.serviceId')
    .select([
      'o.id',
      'o.purpose',
      'o.status',
      'o.amountCents',
      'o.provider',
      'o.providerObjectId',
      'o.bookingId',
      'o.createdAt',
      'o.completedAt',
      'b.startsAt as lessonStartsAt',
      's.name as serviceName',
      createdKey.as('createdKey'),
    ])
    .where('o.purpose', 'in', [...TRANSFER_PURPOSES])
    .where('o.status', 'in', ['pending', 'succeeded'])
    .where((eb) =>
      eb.or([
        eb.and([eb('o.bookingId', 'is not', null), eb('b.instructorId', '=', input.instructorId)]),
        eb.and([eb('o.bookingId', 'is', null), eb('o.userId', '=', input.instructorId)]),
      ]),
    )
    .orderBy('o.createdAt', 'desc')
    .orderBy('o.id', 'desc')
    .limit(input.limit + 1);
  if (input.after) query = query.where(olderThan(input.after));
  return query.execute();
}
