import type { Database } from '@instainstru/db';
import { z } from 'zod';
import { type AuditContext, recordAudit } from '../audit/record-audit.ts';
import type { Logger } from '../shared/logger.ts';

/**
 * Named rate-limit policies. A route opts into one by name (`rateLimit: 'auth'` in its spec);
 * every other /api/v1 route uses `default`. Callers are identified by principal, else by IP.
 */
export const RATE_LIMIT_POLICY_NAMES = ['default', 'auth', 'password_reset', 'booking', 'payment'] as const;
export const RateLimitPolicyName = z.enum(RATE_LIMIT_POLICY_NAMES);
export type RateLimitPolicyName = z.infer<typeof RateLimitPolicyName>;

/** `shadow` counts and logs what it would refuse but lets everything through; `off` skips the check. */
export const RateLimitMode = z.enum(['enforce', 'shadow', 'off']);
export type RateLimitMode = z.infer<typeof RateLimitMode>;

export const RateLimitPolicySchema = z
  .object({
    limit: z.number().int().min(1).max(1_000_000).describe('Requests allowed per period, all of which may come at once'),
    periodSeconds: z.number().int().min(1).max(86_400),
    mode: RateLimitMode,
    failClosed: z.boolean().describe('When Redis is down: true answers 503 (money routes), false falls back to per-process limits'),
  })
  .strict();
export type RateLimitPolicy = z.infer<typeof RateLimitPolicySchema>;

/** Start-up overrides (the RATE_LIMIT_POLICIES variable): any subset of policies and fields. */
export const RateLimitPolicyOverrides = z.partialRecord(RateLimitPolicyName, RateLimitPolicySchema.partial().strict());
export type RateLimitPolicyOverrides = z.infer<typeof RateLimitPolicyOverrides>;

/**
 * Built-in values. Login, password reset and money routes are stricter; booking and payment
 * refuse (503) rather than fall back to per-process limits when Redis is down, because N
 * processes each allowing the full limit would multiply what a card-testing attacker gets.
 */
export const BUILT_IN_RATE_LIMIT_POLICIES: Readonly<Record<RateLimitPolicyName, RateLimitPolicy>> = Object.freeze({
  default: { limit: 300, periodSeconds: 60, mode: 'enforce', failClosed: false },
  auth: { limit: 10, periodSeconds: 60, mode: 'enforce', failClosed: false },
  password_reset: { limit: 5, periodSeconds: 900, mode: 'enforce', failClosed: false },
  booking: { limit: 20, periodSeconds: 60, mode: 'enforce', failClosed: true },
  payment: { limit: 10, periodSeconds: 60, mode: 'enforce', failClosed: true },
});

export interface EffectivePolicy extends RateLimitPolicy {
  name: RateLimitPolicyName;
  /** `built_in` values, start-up `config`, or an admin `override` stored in the database. */
  source: 'built_in' | 'config' | 'override';
  updatedAt: Date | null;
  updatedBy: string | null;
}

/** The policies in force in this process, refreshed from the database so every process agrees. */
export interface RateLimitPolicies {
  get(name: RateLimitPolicyName): RateLimitPolicy;
  /** The value without a database override: built-in, or as RATE_LIMIT_POLICIES set it. */
  startupValue(name: RateLimitPolicyName): RateLimitPolicy;
  list(): EffectivePolicy[];
  /** Re-reads the overrides table now (also runs every `refreshMs`). */
  refresh(): Promise<void>;
  stop(): void;
}

interface OverrideRow {
  policy: string;
  requestLimit: number;
  periodSeconds: number;
  mode: string;
  failClosed: boolean;
  updatedAt: Date;
  updatedBy: string | null;
}

function withOverrides(base: RateLimitPolicy, overrides: Partial<Record<keyof RateLimitPolicy, unknown>> | undefined): RateLimitPolicy {
  const defined = Object.fromEntries(Object.entries(overrides ?? {}).filter(([, value]) => value !== undefined));
  return RateLimitPolicySchema.parse({ ...base, ...defined });
}

function effectivePolicies(configured: RateLimitPolicyOverrides, rows: readonly OverrideRow[]): Map<RateLimitPolicyName, EffectivePolicy> {
  const byName = new Map(rows.map((row) => [row.policy, row]));
  const result = new Map<RateLimitPolicyName, EffectivePolicy>();
  for (const name of RATE_LIMIT_POLICY_NAMES) {
    const row = byName.get(name);
    const fromConfig = configured[name];
    if (row) {
      result.set(name, {
        name,
        limit: row.requestLimit,
        periodSeconds: row.periodSeconds,
        mode: RateLimitMode.parse(row.mode),
        failClosed: row.failClosed,
        source: 'override',
        updatedAt: row.updatedAt,
        updatedBy: row.updatedBy,
      });
    } else {
      result.set(name, {
        name,
        ...withOverrides(BUILT_IN_RATE_LIMIT_POLICIES[name], fromConfig),
        source: fromConfig ? 'config' : 'built_in',
        updatedAt: null,
        updatedBy: null,
      });
    }
  }
  return result;
}

/**
 * Loads the policies (built-in ← RATE_LIMIT_POLICIES ← database overrides) and keeps them fresh.
 * A failed refresh keeps the last known policies: a database blip must not reset limits.
 */
export async function loadRateLimitPolicies(
  database: Database,
  options: { configured: RateLimitPolicyOverrides; refreshMs: number; logger: Logger },
): Promise<RateLimitPolicies> {
  const read = () => database.db.selectFrom('rateLimitOverrides').selectAll().execute();
  let current = effectivePolicies(options.configured, await read());
  const refresh = async () => {
    current = effectivePolicies(options.configured, await read());
  };
  const timer = setInterval(() => {
    refresh().catch((error: unknown) =>
      options.logger.warn({ err: { message: (error as Error).message } }, 'could not refresh rate-limit policies; keeping the last known'),
    );
  }, options.refreshMs);
  timer.unref();
  return {
    get: (name) => current.get(name) ?? BUILT_IN_RATE_LIMIT_POLICIES[name],
    startupValue: (name) => withOverrides(BUILT_IN_RATE_LIMIT_POLICIES[name], options.configured[name]),
    list: () => [...current.values()],
    refresh,
    stop: () => clearInterval(timer),
  };
}

function policyFields({ limit, periodSeconds, mode, failClosed }: RateLimitPolicy): RateLimitPolicy {
  return { limit, periodSeconds, mode, failClosed };
}

/** `null` removes a policy's override (back to the start-up value). */
export type RateLimitPolicyChanges = Partial<Record<RateLimitPolicyName, RateLimitPolicy | null>>;

/**
 * Stores admin changes to the policies, auditing each one with its before and after values in
 * the same transaction, then refreshes this process (others follow within their refresh period).
 */
export async function updateRateLimitPolicies(
  database: Database,
  policies: RateLimitPolicies,
  context: AuditContext,
  changes: RateLimitPolicyChanges,
  updatedBy: string | null,
): Promise<void> {
  await database.db.transaction().execute(async (trx) => {
    for (const [name, change] of Object.entries(changes) as [RateLimitPolicyName, RateLimitPolicy | null | undefined][]) {
      if (change === undefined) continue;
      const before = policyFields(policies.get(name));
      if (change === null) {
        await trx.deleteFrom('rateLimitOverrides').where('policy', '=', name).execute();
      } else {
        const values = {
          requestLimit: change.limit,
          periodSeconds: change.periodSeconds,
          mode: change.mode,
          failClosed: change.failClosed,
          updatedAt: new Date(),
          updatedBy,
        };
        await trx
          .insertInto('rateLimitOverrides')
          .values({ policy: name, ...values })
          .onConflict((conflict) => conflict.column('policy').doUpdateSet(values))
          .execute();
      }
      await recordAudit(trx, context, {
        action: change === null ? 'rate_limits.reset' : 'rate_limits.update',
        resourceType: 'rate_limit_policy',
        resourceId: name,
        before,
        after: change ?? policies.startupValue(name),
        ...(change === null ? { reason: 'override removed; start-up value applies' } : {}),
      });
    }
  });
  await policies.refresh();
}
