import type { CoreJobName } from './definitions.ts';

/** A named cron (UTC) that enqueues one job per slot: the Celery Beat equivalent. */
export interface ScheduleDefinition<J extends string = string> {
  readonly name: string;
  readonly cron: string;
  readonly job: J;
  readonly description: string;
}

/**
 * Every schedule, in one table. Crons are UTC (New York is UTC−5/−4: 08:00 UTC is 3–4 am there).
 * A schedule whose job has no handler in the running worker is registered as disabled, and says so.
 */
export const SCHEDULES: readonly ScheduleDefinition<CoreJobName>[] = [
  {
    name: 'hold-expiry-sweep',
    cron: '* * * * *',
    job: 'booking.hold-expiry-sweep',
    description: 'Every minute: release checkout holds whose per-booking job was missed',
  },
  {
    name: 'payment-authorization-sweep',
    cron: '*/5 * * * *',
    job: 'payments.authorization-sweep',
    description: 'Every 5 minutes: authorize scheduled payments at T−24h',
  },
  {
    name: 'payment-authorization-retry',
    cron: '*/15 * * * *',
    job: 'payments.authorization-retry',
    description: 'Every 15 minutes: retry failed authorizations on their +1h/+4h/+8h ladder',
  },
  {
    name: 'payment-capture-sweep',
    cron: '*/15 * * * *',
    job: 'payments.capture-sweep',
    description: 'Every 15 minutes: capture lessons that ended 24 hours ago',
  },
  {
    name: 'credit-expiry',
    cron: '20 5 * * *',
    job: 'credits.expire',
    description: 'Daily at 05:20 UTC (after midnight in New York): expire credit past its 1-year expiry',
  },
  {
    name: 'referral-unlocker',
    cron: '*/15 * * * *',
    job: 'referrals.unlock-rewards',
    description: 'Every 15 minutes: unlock referral rewards past their hold',
  },
  {
    name: 'search-analytics-rollup',
    cron: '5 * * * *',
    job: 'search.analytics-rollup',
    description: 'Hourly at :05: roll up search analytics',
  },
  {
    name: 'platform-analytics',
    cron: '15 */3 * * *',
    job: 'analytics.platform-rollup',
    description: 'Every 3 hours at :15: platform analytics',
  },
  {
    name: 'alias-learning',
    cron: '30 7 * * *',
    job: 'search.alias-learning',
    description: 'Daily at 07:30 UTC: learn search aliases',
  },
  {
    name: 'data-retention',
    cron: '0 8 * * *',
    job: 'retention.data-purge',
    description: 'Daily at 08:00 UTC: apply data retention',
  },
  {
    name: 'stripe-reconciliation',
    cron: '40 * * * *',
    job: 'payments.reconcile-stripe',
    description: 'Hourly at :40: reconcile payments with Stripe',
  },
  {
    name: 'instructor-tier-evaluation',
    cron: '10 5 * * *',
    job: 'pricing.evaluate-tiers',
    description: 'Daily at 05:10 UTC (after midnight in New York): re-evaluate instructor fee tiers',
  },
];
