import type { Database } from '@instainstru/db';
import type { AppConfig } from '../config.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';

/** Everything the HTTP layer needs, built once at start-up (server.ts) or by a test. */
export interface ApiDeps {
  readonly config: AppConfig;
  readonly database: Database;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly startedAt: Date;
}
