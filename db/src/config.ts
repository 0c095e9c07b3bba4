import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * Database tiers of the original platform:
 * - `int`  integration/tests — the default, freely reset;
 * - `stg`  local development / staging data worth keeping;
 * - `prod` production — destructive CLI commands need an interactive "yes".
 */
export const Tier = z.enum(['int', 'stg', 'prod']);
export type Tier = z.infer<typeof Tier>;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const DbEnv = z.object({
  DATABASE_URL: z.string().url().optional(),
  DB_TIER: z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(Tier)
    .default('int'),
  PGLITE_DATA_DIR: z.string().optional(),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  DB_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).optional(),
  DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
});

export interface DbConfig {
  /** Set → a real PostgreSQL server; unset → embedded PGlite under `pgliteDataDir`. */
  readonly databaseUrl: string | undefined;
  readonly tier: Tier;
  /** `memory://` keeps the embedded database in memory (tests). */
  readonly pgliteDataDir: string;
  readonly poolMax: number;
  readonly statementTimeoutMs: number;
  /** Client-side limit: a query on a hung server fails after this, even if the server never answers. */
  readonly queryTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** Reads the database settings from an environment object (never from `process.env` directly). */
export function loadDbConfig(env: Record<string, string | undefined>): DbConfig {
  const clean = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = DbEnv.safeParse(clean);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') ?? 'database settings';
    throw new Error(`Invalid configuration: ${name}: ${issue?.message ?? 'invalid value'}`);
  }
  const values = parsed.data;
  return Object.freeze({
    databaseUrl: values.DATABASE_URL,
    tier: values.DB_TIER,
    pgliteDataDir: values.PGLITE_DATA_DIR ?? path.join(repoRoot, '.data', 'pglite'),
    poolMax: values.DB_POOL_MAX,
    statementTimeoutMs: values.DB_STATEMENT_TIMEOUT_MS,
    queryTimeoutMs: values.DB_QUERY_TIMEOUT_MS ?? values.DB_STATEMENT_TIMEOUT_MS + 1_000,
    connectTimeoutMs: values.DB_CONNECT_TIMEOUT_MS,
  });
}

/** A connection string with its password removed, safe for logs. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
