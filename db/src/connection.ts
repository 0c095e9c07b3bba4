import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { cube } from '@electric-sql/pglite/contrib/cube';
import { earthdistance } from '@electric-sql/pglite/contrib/earthdistance';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { CamelCasePlugin, Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import fs from 'node:fs';
import pg from 'pg';
import type { DbConfig, Tier } from './config.ts';
import { redactDatabaseUrl } from './config.ts';
import { createPglitePool } from './pglite-pool.ts';
import type { DB } from './schema.ts';

export type Engine = 'postgres' | 'pglite';

/** What every process gets from `openDatabase`: one Kysely instance and the means to run raw SQL. */
export interface Database {
  readonly db: Kysely<DB>;
  readonly engine: Engine;
  readonly tier: Tier;
  /** Where the data lives, safe to print (no password). */
  readonly location: string;
  /** Raw SQL on the pool (pg-boss's `db.executeSql`). Not for domain code: use Kysely. */
  executeSql(text: string, values?: readonly unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number }>;
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const silentLogger: Logger = { info() {}, warn() {}, error() {} };

const PG_INT8 = 20;
const PG_DATE = 1082;
const PG_BYTEA = 17;
const PG_POINT = 600;

/**
 * One set of type rules for both engines so domain code sees the same values:
 * int8 → number (counts, sums of cents: all far below 2^53), date → 'YYYY-MM-DD' string (a local
 * day has no time zone), timestamptz → Date, bytea → Buffer, point → {x, y}, numeric → string.
 */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === PG_INT8) return (value: string) => Number(value);
    if (oid === PG_DATE) return (value: string) => value;
    return pg.types.getTypeParser(oid, format ?? 'text');
  },
};

const pgliteParsers = {
  [PG_DATE]: (value: string) => value,
  [PG_BYTEA]: (value: string) => Buffer.from(value.slice(2), 'hex'),
  [PG_POINT]: (value: string) => {
    const [x, y] = value.slice(1, -1).split(',').map(Number);
    return { x, y };
  },
};

/** Opens the database the configuration points at: a `pg` Pool, or the embedded PGlite. */
export async function openDatabase(config: DbConfig, logger: Logger = silentLogger): Promise<Database> {
  if (config.databaseUrl) return openPostgres(config, config.databaseUrl, logger);
  return openPglite(config, logger);
}

function makeKysely(pool: PostgresPool): Kysely<DB> {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }), plugins: [new CamelCasePlugin()] });
}

function openPostgres(config: DbConfig, databaseUrl: string, logger: Logger): Database {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: config.poolMax,
    statement_timeout: config.statementTimeoutMs,
    query_timeout: config.queryTimeoutMs,
    idle_in_transaction_session_timeout: config.statementTimeoutMs * 4,
    connectionTimeoutMillis: config.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'instainstru',
    types: pgTypes,
  });
  // An idle client whose server restarts emits 'error'; without a listener the process would crash.
  pool.on('error', (error) =>
    logger.warn(
      { err: { message: error.message, code: (error as { code?: string }).code } },
      'idle database client failed; the pool replaces it',
    ),
  );
  const location = redactDatabaseUrl(databaseUrl);
  return {
    db: makeKysely(pool),
    engine: 'postgres',
    tier: config.tier,
    location,
    async executeSql(text, values = []) {
      const result = await pool.query(text, values as unknown[]);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await pool.end();
    },
  };
}

async function openPglite(config: DbConfig, logger: Logger): Promise<Database> {
  const inMemory = config.pgliteDataDir.startsWith('memory://');
  if (!inMemory) fs.mkdirSync(config.pgliteDataDir, { recursive: true });
  const pglite = await PGlite.create({
    ...(inMemory ? {} : { dataDir: config.pgliteDataDir }),
    extensions: { btree_gist, pg_trgm, cube, earthdistance },
    parsers: pgliteParsers,
  });
  const pool = createPglitePool(pglite);
  const location = inMemory ? 'embedded PGlite (in memory)' : `embedded PGlite at ${config.pgliteDataDir}`;
  logger.info({ engine: 'pglite', location }, 'using the embedded database (one process owns it)');
  let closed = false;
  return {
    db: makeKysely(pool),
    engine: 'pglite',
    tier: config.tier,
    location,
    executeSql: (text, values) => pool.executeSql(text, values),
    poolStats: () => pool.stats(),
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
      await pglite.close();
    },
  };
}
