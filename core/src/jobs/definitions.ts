import { z } from 'zod';

/**
 * pg-boss queue policies: `standard` (no uniqueness), `short` (one queued job per singleton
 * key), `singleton` (one active job per key), `stately` (one queued and one active per key).
 */
export type QueuePolicy = 'standard' | 'short' | 'singleton' | 'stately';

/** What a job is: its name, payload schema, retry and time limits, uniqueness and concurrency. */
export interface JobDefinition<P extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly description: string;
  readonly payload: P;
  /** Retries after the first attempt; the job dead-letters after `retryLimit + 1` failures. */
  readonly retryLimit: number;
  /** Base delay; with backoff, attempt n waits between delay·2^(n−1) and delay·2^n seconds. */
  readonly retryDelaySeconds: number;
  readonly retryBackoff: boolean;
  /**
   * How long one attempt may run. A worker aborts its handler after this; a job whose worker died
   * is failed (and retried) by pg-boss maintenance once this has passed since it started.
   */
  readonly expireInSeconds: number;
  readonly policy: QueuePolicy;
  /** Makes the queue policy bite: jobs with the same key are deduplicated per the policy. */
  readonly singletonKey?: (payload: z.output<P>) => string;
  /**
   * The stable identity effects are recorded under (`<job>:<key>:<effect>`). Defaults to the
   * pg-boss job id, which survives retries; give a domain key (a booking id) when two jobs for the
   * same thing must share effects.
   */
  readonly effectKey?: (payload: z.output<P>) => string;
  /** Jobs of this queue one worker process runs at once. */
  readonly concurrency: number;
}

export type JobRegistry = Record<string, JobDefinition<any>>;
export type JobName<R extends JobRegistry> = keyof R & string;
/** What a sender passes (zod input). */
export type JobPayloadInput<R extends JobRegistry, N extends JobName<R>> = z.input<R[N]['payload']>;
/** What a handler receives (zod output). */
export type JobPayload<R extends JobRegistry, N extends JobName<R>> = z.output<R[N]['payload']>;

type Optional = 'retryLimit' | 'retryDelaySeconds' | 'retryBackoff' | 'expireInSeconds' | 'policy' | 'concurrency' | 'description';

/** Declares a job with production defaults: 3 retries, 30 s exponential backoff, 15 min limit. */
export function defineJob<P extends z.ZodType>(
  definition: Omit<JobDefinition<P>, Optional> & Partial<Pick<JobDefinition<P>, Optional>>,
): JobDefinition<P> {
  if (!/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/.test(definition.name)) {
    throw new Error(`Job name "${definition.name}" must look like "domain.verb-noun"`);
  }
  return Object.freeze({
    description: '',
    retryLimit: 3,
    retryDelaySeconds: 30,
    retryBackoff: true,
    expireInSeconds: 15 * 60,
    policy: 'standard' as const,
    concurrency: 2,
    ...definition,
  });
}

/** Dead letters of a queue land in this queue, where they wait for a person (or the API) to act. */
export function deadLetterQueueOf(name: string): string {
  return `${name}.dead`;
}

export function isDeadLetterQueue(name: string): boolean {
  return name.endsWith('.dead');
}

/** Payload of every job a schedule enqueues: which schedule, and the cron slot it stands for. */
export const ScheduledRun = z
  .object({
    schedule: z.string().min(1).max(100),
    slot: z.iso.datetime({ offset: true }),
  })
  .strict();
export type ScheduledRun = z.infer<typeof ScheduledRun>;

function scheduledJob(name: string, description: string, overrides: Partial<Pick<JobDefinition, Optional>> = {}) {
  return defineJob({
    name,
    description,
    payload: ScheduledRun,
    // One queued and one running per schedule: a backlog collapses into one run, runs never overlap.
    policy: 'stately',
    singletonKey: (run) => `schedule:${run.schedule}`,
    effectKey: (run) => `${run.schedule}@${run.slot}`,
    retryLimit: 2,
    retryDelaySeconds: 60,
    concurrency: 1,
    ...overrides,
  });
}

/**
 * Every job the platform knows, by name. Senders (the API) need only this; handlers live with
 * the worker (core/src/jobs/handlers.ts). A domain adds its jobs here and its handler there.
 */
export const JOBS = {
  'booking.hold-expiry': defineJob({
    name: 'booking.hold-expiry',
    description: 'Cancels one booking whose checkout hold expired unpaid (sent with startAfter = hold expiry)',
    payload: z.object({ bookingId: z.string().min(1).max(64) }).strict(),
    policy: 'stately',
    singletonKey: (payload) => payload.bookingId,
    effectKey: (payload) => payload.bookingId,
    retryLimit: 5,
    retryDelaySeconds: 10,
    expireInSeconds: 60,
    concurrency: 4,
  }),
  'booking.hold-expiry-sweep': scheduledJob(
    'booking.hold-expiry-sweep',
    'Releases every expired checkout hold the per-booking jobs missed',
    {
      expireInSeconds: 120,
    },
  ),
  'payments.authorization-sweep': scheduledJob(
    'payments.authorization-sweep',
    'Authorizes scheduled payments whose lesson starts within 24 hours',
  ),
  'payments.authorization-retry': scheduledJob(
    'payments.authorization-retry',
    'Retries failed authorizations (+1h, +4h, +8h, then every 8h); warns at T−13h, cancels at T−12h',
  ),
  'payments.capture-sweep': scheduledJob('payments.capture-sweep', 'Captures lessons that ended 24 hours ago and pays the instructor'),
  // Per-booking payment jobs (core/src/payments): each re-reads the booking and does only what is
  // due, under the booking's money lock, so duplicates and late runs are harmless.
  'payments.authorize': defineJob({
    name: 'payments.authorize',
    description: "Authorizes one booking's card at T−24h (sent at checkout and on reschedule; also resumes a checkout's call)",
    payload: z.object({ bookingId: z.string().min(1).max(64) }).strict(),
    retryLimit: 8,
    retryDelaySeconds: 30,
    expireInSeconds: 120,
    concurrency: 4,
  }),
  'payments.settle-booking': defineJob({
    name: 'payments.settle-booking',
    description: "Finishes one booking's money after a cancellation, a late reschedule (LOCK) or a no-show decision",
    payload: z.object({ bookingId: z.string().min(1).max(64) }).strict(),
    retryLimit: 8,
    retryDelaySeconds: 30,
    expireInSeconds: 120,
    concurrency: 4,
  }),
  'payments.no-show-deadline': defineJob({
    name: 'payments.no-show-deadline',
    description: 'Confirms a no-show report the instructor did not dispute within 24 hours, and refunds the student',
    payload: z.object({ bookingId: z.string().min(1).max(64) }).strict(),
    retryLimit: 8,
    retryDelaySeconds: 30,
    expireInSeconds: 120,
    concurrency: 2,
  }),
  'referrals.unlock-rewards': scheduledJob(
    'referrals.unlock-rewards',
    'Unlocks referral rewards past their 7-day hold; voids refunded ones',
  ),
  'credits.expire': scheduledJob('credits.expire', 'Expires unreserved student credit past its 1-year expiry'),
  'tips.process-payment': defineJob({
    name: 'tips.process-payment',
    description: "Charges a tip to the student's saved card, then transfers all of it to the instructor",
    payload: z.object({ tipId: z.string().min(1).max(64) }).strict(),
    policy: 'stately',
    singletonKey: (payload) => payload.tipId,
    effectKey: (payload) => payload.tipId,
    retryLimit: 6,
    retryDelaySeconds: 60,
    expireInSeconds: 120,
  }),
  'search.analytics-rollup': scheduledJob('search.analytics-rollup', 'Rolls search events up into hourly query statistics'),
  'analytics.platform-rollup': scheduledJob('analytics.platform-rollup', 'Computes platform analytics (bookings, revenue, funnel)'),
  'search.alias-learning': scheduledJob('search.alias-learning', 'Proposes search aliases learned from queries that led to bookings'),
  'retention.data-purge': scheduledJob('retention.data-purge', 'Deletes or anonymizes data past its retention period'),
  'payments.reconcile-stripe': scheduledJob(
    'payments.reconcile-stripe',
    "Compares bookings' payment state with Stripe and flags mismatches",
  ),
  'pricing.evaluate-tiers': scheduledJob(
    'pricing.evaluate-tiers',
    'Re-evaluates instructor fee tiers: rises at once, one-step drops after 30 days, reset after 90 idle days',
  ),
} satisfies JobRegistry;

export type CoreJobs = typeof JOBS;
export type CoreJobName = JobName<CoreJobs>;
