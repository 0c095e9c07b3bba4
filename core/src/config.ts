import { type DbConfig, loadDbConfig } from '@instainstru/db';
import { z } from 'zod';

const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

const Env = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  PUBLIC_API_URL: z.string().url().optional(),
  REDIS_URL: z.string().url().optional(),
  CORS_ORIGINS: csv.default(['http://localhost:5173', 'http://localhost:3000', 'http://127.0.0.1:5173', 'http://127.0.0.1:3000']),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  BODY_LIMIT: z.string().default('100kb'),
  SEED_DEMO_DATA: z.enum(['auto', 'never']).default('auto'),
  SENTRY_DSN: z.string().url().optional(),
  GIT_SHA: z.string().optional(),
});

export interface AppConfig {
  readonly env: 'development' | 'test' | 'production';
  readonly host: string;
  readonly port: number;
  readonly publicApiUrl: string;
  readonly redisUrl: string | undefined;
  readonly corsOrigins: readonly string[];
  readonly logLevel: string;
  readonly requestTimeoutMs: number;
  readonly bodyLimit: string;
  /** `auto`: seed demo data when the database is empty and the tier is not PROD. */
  readonly seedDemoData: 'auto' | 'never';
  readonly sentryDsn: string | undefined;
  readonly release: string | undefined;
  readonly db: DbConfig;
}

/**
 * The API's configuration, read once at start-up from an environment object and frozen.
 * A bad value stops the process with a message naming the variable.
 */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const clean = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = Env.safeParse(clean);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid configuration: ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid value'}`);
  }
  const values = parsed.data;
  return Object.freeze({
    env: values.NODE_ENV,
    host: values.API_HOST,
    port: values.API_PORT,
    publicApiUrl: values.PUBLIC_API_URL ?? `http://localhost:${values.API_PORT}`,
    redisUrl: values.REDIS_URL,
    corsOrigins: Object.freeze(values.CORS_ORIGINS),
    logLevel: values.LOG_LEVEL,
    requestTimeoutMs: values.REQUEST_TIMEOUT_MS,
    bodyLimit: values.BODY_LIMIT,
    seedDemoData: values.SEED_DEMO_DATA,
    sentryDsn: values.SENTRY_DSN,
    release: values.GIT_SHA,
    db: loadDbConfig(env),
  });
}
