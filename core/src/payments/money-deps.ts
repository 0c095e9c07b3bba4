import type { JobQueue } from '../jobs/queue.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { MoneyLockDeps } from './money-lock.ts';
import type { PaymentProvider } from './provider.ts';

/**
 * What every money action needs besides the database: the payment provider, the clock, the job
 * queue (follow-up jobs are sent in the transaction that makes the change) and the shared Redis
 * for the money lock. The API builds it from ApiDeps, the worker from the job context.
 */
export interface MoneyDeps extends MoneyLockDeps {
  readonly payments: PaymentProvider;
  readonly clock: Clock;
  readonly jobs: Pick<JobQueue, 'send'>;
  readonly logger?: Logger | undefined;
}

/** How a payment shows in API responses: which provider, and whether it is the offline one. */
export interface ProviderLabel {
  provider: 'stripe' | 'offline';
  offline: boolean;
}

export function providerLabel(payments: Pick<PaymentProvider, 'name' | 'offline'>): ProviderLabel {
  return { provider: payments.name, offline: payments.offline };
}
