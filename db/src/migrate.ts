import { type Kysely, type MigrationResultSet, Migrator, NO_MIGRATIONS } from 'kysely';
import { migrations } from '../migrations/index.ts';

function makeMigrator(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
  });
}

function unwrap(result: MigrationResultSet): string[] {
  if (result.error) {
    const failed = result.results?.find((step) => step.status === 'Error');
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
  return (result.results ?? []).filter((step) => step.status === 'Success').map((step) => step.migrationName);
}

/** Applies every pending migration; returns the names applied (empty when already current). */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  return unwrap(await makeMigrator(db).migrateToLatest());
}

/** Undoes every migration (used by `db reset`). */
export async function migrateDownAll(db: Kysely<any>): Promise<string[]> {
  return unwrap(await makeMigrator(db).migrateTo(NO_MIGRATIONS));
}

export interface MigrationStatus {
  name: string;
  executedAt: Date | undefined;
}

export async function migrationStatus(db: Kysely<any>): Promise<MigrationStatus[]> {
  const list = await makeMigrator(db).getMigrations();
  return list.map((item) => ({ name: item.name, executedAt: item.executedAt }));
}

/** True when every known migration has been applied (the API's readiness check uses it). */
export async function isSchemaCurrent(db: Kysely<any>): Promise<boolean> {
  const status = await migrationStatus(db);
  return status.every((item) => item.executedAt !== undefined);
}
