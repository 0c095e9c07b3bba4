import { sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadDbConfig, type DbConfig } from './config.ts';
import { type Database, openDatabase } from './connection.ts';
import { migrateToLatest } from './migrate.ts';

/**
 * A fresh, migrated database for one test file.
 *
 * `DATABASE_URL` set → a new database on that server (`ii_test_<random>`), dropped by `cleanup`;
 * unset → an in-memory PGlite. Either way the same migrations run, so the whole suite passes on
 * both engines.
 */
export interface TestDatabase extends Database {
  cleanup(): Promise<void>;
  /** The server URL of this test database (undefined on PGlite), for child processes. */
  readonly url: string | undefined;
}

export async function createTestDatabase(
  env: Record<string, string | undefined> = process.env,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const base = loadDbConfig(env);
  const migrate = options.migrate ?? true;
  if (!base.databaseUrl) {
    const config: DbConfig = { ...base, tier: 'int', pgliteDataDir: 'memory://' };
    const database = await openDatabase(config);
    if (migrate) await migrateToLatest(database.db);
    return { ...database, url: undefined, cleanup: () => database.close() };
  }

  const name = `ii_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base.databaseUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base.databaseUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ ...base, tier: 'int', databaseUrl: url.toString() });
  if (migrate) await migrateToLatest(database.db);
  return {
    ...database,
    url: url.toString(),
    async cleanup() {
      await database.close();
      const dropper = new pg.Client({ connectionString: base.databaseUrl });
      await dropper.connect();
      try {
        await dropper.query(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

const REFERENCE_TABLES = new Set(['roles', 'permissions', 'role_permissions']);

/** Empties every data table (reference tables and migration bookkeeping stay). */
export async function truncateAll(database: Database): Promise<void> {
  const { rows } = await sql<{ tablename: string }>`
    select tablename from pg_tables where schemaname = current_schema()
      and tablename not like 'schema_migrations%'
  `.execute(database.db);
  const tables = rows.map((row) => row.tablename).filter((table) => !REFERENCE_TABLES.has(table));
  if (tables.length === 0) return;
  await sql.raw(`truncate ${tables.map((table) => `"${table}"`).join(', ')} cascade`).execute(database.db);
}
