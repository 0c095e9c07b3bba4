import type { Database } from '@instainstru/db';
import type { AuthDeps } from '../auth/auth-deps.ts';
import type { AppConfig } from '../config.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { PaymentProvider } from '../payments/provider.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { PlatformDeps } from './platform.ts';

/**
 * Everything the HTTP layer needs, built once at start-up (server.ts) or by a test.
 * The platform part (redis, rateLimiter, metrics, errorReporter) comes from `createPlatformDeps`.
 */
export interface ApiDeps extends PlatformDeps {
  readonly config: AppConfig;
  readonly database: Database;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly startedAt: Date;
  /** Keys, token verifiers and role cache for identity (`createAuthDeps`). */
  readonly auth: AuthDeps;
  /** Background jobs: send (in the caller's transaction), inspect, retry (`startJobs`). */
  readonly jobs: JobQueue;
  /** The payment provider: Stripe when configured, the offline one otherwise (`createPaymentProvider`). */
  readonly payments: PaymentProvider;
}
