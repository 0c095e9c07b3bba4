import { type DbConfig, loadDbConfig } from '@instainstru/db';
import { z } from 'zod';
import { RateLimitPolicyOverrides } from './http/rate-limit-policies.ts';
import { type AuthConfig, loadAuthConfig } from './auth/auth-config.ts';

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
  AVAILABILITY_PUBLIC_HORIZON_DAYS: z.coerce.number().int().min(1).max(365).default(90),
  AVAILABILITY_PUBLIC_DETAIL: z.enum(['quarter_hour', 'half_hour', 'hour']).default('quarter_hour'),
  AVAILABILITY_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  SENTRY_DSN: z.string().url().optional(),
  SENTRY_TRACES_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(0),
  GIT_SHA: z.string().optional(),
  REDIS_KEY_PREFIX: z.string().max(64).default('ii:'),
  METRICS_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  RATE_LIMIT_POLICIES: z
    .string()
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'must be JSON, e.g. {"auth":{"limit":5}}' });
        return z.NEVER;
      }
    })
    .pipe(RateLimitPolicyOverrides)
    .optional(),
  RATE_LIMIT_REFRESH_MS: z.coerce.number().int().min(100).default(10_000),
  RATE_LIMIT_MEMORY_MAX_KEYS: z.coerce.number().int().min(100).default(100_000),
  JOBS_IN_API: z.enum(['auto', 'true', 'false']).default('auto'),
  JOBS_POLL_INTERVAL_MS: z.coerce.number().int().min(50).default(2_000),
  JOBS_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(100).default(5_000),
  JOBS_SCHEDULER_TICK_MS: z.coerce.number().int().min(100).default(5_000),
  JOBS_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(25_000),
  JOBS_MAINTENANCE_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  BOOKINGS_CONFIRM_IMMEDIATELY: z.enum(['true', 'false']).optional(),
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
  /** Public availability: how many days ahead it shows, how finely, and how long answers are cached. */
  readonly availability: {
    readonly horizonDays: number;
    readonly detail: 'quarter_hour' | 'half_hour' | 'hour';
    readonly cacheTtlSeconds: number;
  };
  readonly sentryDsn: string | undefined;
  /** Share of requests traced by Sentry, 0–1. */
  readonly sentryTracesSampleRate: number;
  readonly release: string | undefined;
  /** Prefixes every Redis key this process writes (tests use a unique one per app). */
  readonly redisKeyPrefix: string;
  /** Lets Prometheus scrape /api/v1/metrics/prometheus with `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
  /** Start-up overrides of the built-in rate-limit policies (JSON); admin overrides in the database win. */
  readonly rateLimitPolicies: RateLimitPolicyOverrides;
  /** How often each process re-reads the rate-limit overrides table. */
  readonly rateLimitRefreshMs: number;
  /** Upper bound on keys the in-process rate-limit store holds (oldest evicted first). */
  readonly rateLimitMemoryMaxKeys: number;
  readonly db: DbConfig;
  /** Background jobs (core/src/jobs): where the worker runs and its timings. */
  readonly jobs: JobsConfig;
  /** Tokens, keys, service principals (JWT_*, DATA_ENCRYPTION_KEY, SERVICE_*, see auth/auth-config.ts). */
  readonly auth: AuthConfig;
  /** Bookings (core/src/booking). */
  readonly bookings: BookingsConfig;
}

export interface BookingsConfig {
  /**
   * BOOKINGS_CONFIRM_IMMEDIATELY: confirm new bookings at once, without payment, until the
   * payments module exists. Default true on the INT/STG tiers, false on PROD or with
   * NODE_ENV=production, where bookings stay `pending_payment` holds that expire after 15 minutes
   * — a careful operator never confirms unpaid lessons silently.
   */
  readonly confirmImmediately: boolean;
}

export interface JobsConfig {
  /**
   * Run the job worker and scheduler inside the API process. `auto`: yes on the embedded PGlite
   * (one process owns it), no with DATABASE_URL (`npm run worker -w core` runs them).
   */
  readonly inApi: boolean;
  /** How long an idle queue waits before looking for jobs again. */
  readonly pollIntervalMs: number;
  /** A worker is reported dead after three missed beats. */
  readonly heartbeatIntervalMs: number;
  readonly schedulerTickMs: number;
  /** How long a stopping worker lets running jobs finish before handing them back. */
  readonly shutdownTimeoutMs: number;
  /** pg-boss maintenance (retry attempts whose worker died, archive, purge) in worker processes. */
  readonly maintenanceIntervalSeconds: number;
  /** The worker process serves /metrics here when set (with DATABASE_URL). */
  readonly workerMetricsPort: number | undefined;
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
  const db = loadDbConfig(env);
  const publicApiUrl = values.PUBLIC_API_URL ?? `http://localhost:${values.API_PORT}`;
  return Object.freeze({
    env: values.NODE_ENV,
    host: values.API_HOST,
    port: values.API_PORT,
    publicApiUrl,
    redisUrl: values.REDIS_URL,
    corsOrigins: Object.freeze(values.CORS_ORIGINS),
    logLevel: values.LOG_LEVEL,
    requestTimeoutMs: values.REQUEST_TIMEOUT_MS,
    bodyLimit: values.BODY_LIMIT,
    seedDemoData: values.SEED_DEMO_DATA,
    availability: Object.freeze({
      horizonDays: values.AVAILABILITY_PUBLIC_HORIZON_DAYS,
      detail: values.AVAILABILITY_PUBLIC_DETAIL,
      cacheTtlSeconds: values.AVAILABILITY_CACHE_TTL_SECONDS,
    }),
    sentryDsn: values.SENTRY_DSN,
    sentryTracesSampleRate: values.SENTRY_TRACES_SAMPLE_RATE,
    release: values.GIT_SHA,
    redisKeyPrefix: values.REDIS_KEY_PREFIX,
    metricsToken: values.METRICS_TOKEN,
    rateLimitPolicies: Object.freeze(values.RATE_LIMIT_POLICIES ?? {}),
    rateLimitRefreshMs: values.RATE_LIMIT_REFRESH_MS,
    rateLimitMemoryMaxKeys: values.RATE_LIMIT_MEMORY_MAX_KEYS,
    db,
    jobs: Object.freeze({
      inApi: values.JOBS_IN_API === 'auto' ? !db.databaseUrl : values.JOBS_IN_API === 'true',
      pollIntervalMs: values.JOBS_POLL_INTERVAL_MS,
      heartbeatIntervalMs: values.JOBS_HEARTBEAT_INTERVAL_MS,
      schedulerTickMs: values.JOBS_SCHEDULER_TICK_MS,
      shutdownTimeoutMs: values.JOBS_SHUTDOWN_TIMEOUT_MS,
      maintenanceIntervalSeconds: values.JOBS_MAINTENANCE_INTERVAL_SECONDS,
      workerMetricsPort: values.WORKER_METRICS_PORT,
    }),
    auth: loadAuthConfig(env, { publicApiUrl, tier: db.tier }),
    bookings: Object.freeze({
      confirmImmediately:
        values.BOOKINGS_CONFIRM_IMMEDIATELY === undefined
          ? db.tier !== 'prod' && values.NODE_ENV !== 'production'
          : values.BOOKINGS_CONFIRM_IMMEDIATELY === 'true',
    }),
  });
}
