import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.ts';
import * as m0002 from './0002_identity.ts';
import * as m0003 from './0003_platform.ts';
import * as m0004 from './0004_jobs.ts';
import * as m0005 from './0005_payments.ts';
import * as m0006 from './0006_search.ts';
import * as m0007 from './0007_credits_referrals.ts';

/** Every migration, in order. A new migration is a new file plus one line here. */
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_identity': m0002,
  '0003_platform': m0003,
  '0004_jobs': m0004,
  '0005_payments': m0005,
  '0006_search': m0006,
  '0007_credits_referrals': m0007,
};
