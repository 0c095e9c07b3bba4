import type { DB } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';

/** An authorization this late past T−24h means the sweep (every 5 min) is not doing its work. */
export const AUTHORIZATION_GRACE_MINUTES = 15;
/** A capture this late past end + 24h means the sweep (every 15 min) is not doing its work. */
export const CAPTURE_GRACE_MINUTES = 30;
/** A hold still unreleased this long after it expired. */
const HOLD_STUCK_MINUTES = 5;
/** A confirmed lesson still not completed this long after it ended (auto-completion runs at +24h). */
const COMPLETION_STUCK_HOURS = 48;

export interface PipelineStage {
  /** Coming due within the next hour, or due within the grace period. */
  due: number;
  /** Past due by more than the grace period. */
  overdue: number;
  failing: number;
  oldestOverdueAt: Date | null;
}

export interface PaymentPipelineHealth {
  at: Date;
  status: 'ok' | 'attention';
  /** Scheduled payments to authorize at T−24h; failing = payment_method_required. */
  authorizations: PipelineStage;
  /** Authorized lessons to capture at end + 24h; failing = manual_review. */
  captures: PipelineStage;
  stuckBookings: {
    count: number;
    holdNotReleased: number;
    notCompleted: number;
    sample: Array<{ bookingId: string; reason: 'hold_not_released' | 'not_completed'; since: Date }>;
  };
  /** The payments.* queues: are their jobs failing? */
  jobs: { failedLast24h: number; retrying: number; deadLetters: number };
}

/**
 * The state of the money pipeline at `now`, from the bookings themselves (what should have
 * happened) and the payment queues (what the workers did): the copilot's first stop for
 * "why is the capture queue backing up?".
 */
export async function getPaymentPipelineHealth(db: Kysely<DB>, now: Date): Promise<PaymentPipelineHealth> {
  const stages = await sql<{
    stage: 'authorization' | 'capture';
    due: number;
    overdue: number;
    failing: number;
    oldestOverdueAt: Date | null;
  }>`
    with live as (
      select id, status, payment_status, starts_at - interval '24 hours' as authorize_at, ends_at + interval '24 hours' as capture_at
      from bookings
      where status in ('pending_payment', 'confirmed', 'completed')
    )
    select 'authorization' as stage,
      count(*) filter (where payment_status = 'scheduled' and authorize_at <= ${now}::timestamptz + interval '1 hour'
        and authorize_at > ${now}::timestamptz - make_interval(mins => ${AUTHORIZATION_GRACE_MINUTES}))::int as due,
      count(*) filter (where payment_status = 'scheduled'
        and authorize_at <= ${now}::timestamptz - make_interval(mins => ${AUTHORIZATION_GRACE_MINUTES}))::int as overdue,
      count(*) filter (where payment_status = 'payment_method_required')::int as failing,
      min(authorize_at) filter (where payment_status = 'scheduled'
        and authorize_at <= ${now}::timestamptz - make_interval(mins => ${AUTHORIZATION_GRACE_MINUTES})) as oldest_overdue_at
    from live
    union all
    select 'capture',
      count(*) filter (where payment_status = 'authorized' and status <> 'pending_payment'
        and capture_at <= ${now}::timestamptz + interval '1 hour'
        and capture_at > ${now}::timestamptz - make_interval(mins => ${CAPTURE_GRACE_MINUTES}))::int,
      count(*) filter (where payment_status = 'authorized' and status <> 'pending_payment'
        and capture_at <= ${now}::timestamptz - make_interval(mins => ${CAPTURE_GRACE_MINUTES}))::int,
      count(*) filter (where payment_status = 'manual_review')::int,
      min(capture_at) filter (where payment_status = 'authorized' and status <> 'pending_payment'
        and capture_at <= ${now}::timestamptz - make_interval(mins => ${CAPTURE_GRACE_MINUTES}))
    from live
  `.execute(db);

  const stuckSample = await sql<{ bookingId: string; reason: 'hold_not_released' | 'not_completed'; since: Date }>`
    select * from (
      select id as booking_id, 'hold_not_released' as reason, hold_expires_at as since
      from bookings
      where status = 'pending_payment' and hold_expires_at < ${now}::timestamptz - make_interval(mins => ${HOLD_STUCK_MINUTES})
      union all
      select id, 'not_completed', ends_at
      from bookings
      where status = 'confirmed' and ends_at < ${now}::timestamptz - make_interval(hours => ${COMPLETION_STUCK_HOURS})
    ) stuck
    order by since
    limit 20
  `.execute(db);
  const stuckCounts = await sql<{ holdNotReleased: number; notCompleted: number }>`
    select
      count(*) filter (where status = 'pending_payment'
        and hold_expires_at < ${now}::timestamptz - make_interval(mins => ${HOLD_STUCK_MINUTES}))::int as hold_not_released,
      count(*) filter (where status = 'confirmed'
        and ends_at < ${now}::timestamptz - make_interval(hours => ${COMPLETION_STUCK_HOURS}))::int as not_completed
    from bookings
    where status in ('pending_payment', 'confirmed')
  `.execute(db);

  const jobs = await sql<{ failedLast24h: number; retrying: number; deadLetters: number }>`
    select
      count(*) filter (where state = 'failed' and completed_on > now() - interval '24 hours' and name not like '%.dead')::int as failed_last24h,
      count(*) filter (where state = 'retry' and name not like '%.dead')::int as retrying,
      count(*) filter (where state = 'created' and name like '%.dead')::int as dead_letters
    from pgboss.job
    where name like 'payments.%'
  `.execute(db);

  const stage = (name: 'authorization' | 'capture'): PipelineStage => {
    const row = stages.rows.find((candidate) => candidate.stage === name);
    return { due: row?.due ?? 0, overdue: row?.overdue ?? 0, failing: row?.failing ?? 0, oldestOverdueAt: row?.oldestOverdueAt ?? null };
  };
  const authorizations = stage('authorization');
  const captures = stage('capture');
  const { holdNotReleased, notCompleted } = stuckCounts.rows[0] ?? { holdNotReleased: 0, notCompleted: 0 };
  const jobCounts = jobs.rows[0] ?? { failedLast24h: 0, retrying: 0, deadLetters: 0 };
  const attention =
    authorizations.overdue +
      authorizations.failing +
      captures.overdue +
      captures.failing +
      holdNotReleased +
      notCompleted +
      jobCounts.failedLast24h +
      jobCounts.deadLetters >
    0;
  return {
    at: now,
    status: attention ? 'attention' : 'ok',
    authorizations,
    captures,
    stuckBookings: {
      count: holdNotReleased + notCompleted,
      holdNotReleased,
      notCompleted,
      sample: stuckSample.rows,
    },
    jobs: jobCounts,
  };
}
