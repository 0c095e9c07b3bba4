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
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  PAYMENTS_PROVIDER: z.enum(['auto', 'stripe', 'offline']).default('auto'),
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret or restricted key (sk_test_…)')
    .optional(),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_\w+$/, 'must be a webhook signing secret (whsec_…)')
    .optional(),
  STRIPE_API_BASE_URL: z.string().url().optional(),
  STRIPE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(20_000),
  STRIPE_MAX_NETWORK_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  FAULT_STEPS: csv.optional(),
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
  /**
   * OpenAI for search (OPENAI_API_KEY, OPENAI_BASE_URL): the parser's LLM fallback, embedding and
   * LLM location tiers. Unset: regex parser, trigram and alias matching only (never logged).
   */
  readonly openai: { readonly apiKey: string | undefined; readonly baseUrl: string | undefined };
  /** The payment provider (core/src/payments/providers). */
  readonly payments: PaymentsConfig;
  /**
   * FAULT_STEPS: named steps that throw on purpose (reliability tests, spec R7: e.g.
   * `webhook.after-record` kills a webhook between recording and applying it). Refused on PROD.
   */
  readonly faultSteps: ReadonlySet<string>;
}

export interface PaymentsConfig {
  /**
   * PAYMENTS_PROVIDER: `auto` uses Stripe when STRIPE_SECRET_KEY is set and the offline provider
   * (records everything in the database, moves no money, labelled offline) otherwise.
   */
  readonly provider: 'stripe' | 'offline';
  /** STRIPE_SECRET_KEY (never logged). */
  readonly stripeSecretKey: string | undefined;
  /** STRIPE_WEBHOOK_SECRET: verifies `Stripe-Signature` on POST /api/v1/webhooks/stripe (never logged). */
  readonly stripeWebhookSecret: string | undefined;
  /** STRIPE_API_BASE_URL: another Stripe API endpoint (tests and development point it at a local fake). */
  readonly stripeApiBaseUrl: string | undefined;
  /** Per-request timeout of Stripe calls; a timeout is a retryable provider error. */
  readonly stripeTimeoutMs: number;
  /** The SDK's own retries of network errors and 5xx/409 answers (same idempotency key). */
  readonly stripeMaxNetworkRetries: number;
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
    openai: Object.freeze({ apiKey: values.OPENAI_API_KEY, baseUrl: values.OPENAI_BASE_URL }),
    payments: loadPaymentsConfig(values),
    faultSteps: loadFaultSteps(values.FAULT_STEPS, db.tier === 'prod' || values.NODE_ENV === 'production'),
  });
}

function loadPaymentsConfig(values: z.infer<typeof Env>): PaymentsConfig {
  const provider = values.PAYMENTS_PROVIDER === 'auto' ? (values.STRIPE_SECRET_KEY ? 'stripe' : 'offline') : values.PAYMENTS_PROVIDER;
  if (provider === 'stripe' && !values.STRIPE_SECRET_KEY) {
    throw new Error('Invalid configuration: STRIPE_SECRET_KEY: required when PAYMENTS_PROVIDER=stripe');
  }
  return Object.freeze({
    provider,
    stripeSecretKey: values.STRIPE_SECRET_KEY,
    stripeWebhookSecret: values.STRIPE_WEBHOOK_SECRET,
    stripeApiBaseUrl: values.STRIPE_API_BASE_URL,
    stripeTimeoutMs: values.STRIPE_TIMEOUT_MS,
    stripeMaxNetworkRetries: values.STRIPE_MAX_NETWORK_RETRIES,
  });
}

function loadFaultSteps(steps: string[] | undefined, production: boolean): ReadonlySet<string> {
  if (steps?.length && production) throw new Error('Invalid configuration: FAULT_STEPS: fault injection is refused on PROD');
  return Object.freeze(new Set(steps ?? []));
}
