import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.ts';

/** Every migration, in order. A new migration is a new file plus one line here. */
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
};
