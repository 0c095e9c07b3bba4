import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { principalKey } from '../auth/principal.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { Redis } from '../shared/redis.ts';
import type { RateLimitDecision } from './rate-limit-gcra.ts';
import { createMemoryRateLimitStore, type MemoryRateLimitStore } from './rate-limit-memory-store.ts';
import type { RateLimitPolicies, RateLimitPolicy, RateLimitPolicyName } from './rate-limit-policies.ts';
import { createRedisRateLimitStore } from './rate-limit-redis-store.ts';

/** What happened to one request: `shadow_limited` would have been refused in enforce mode. */
export type RateLimitOutcome = 'allowed' | 'limited' | 'shadow_limited' | 'unavailable' | 'skipped';
export type RateLimitStoreKind = 'redis' | 'memory' | 'none';

export interface RateLimitCheck {
  policy: RateLimitPolicy;
  outcome: RateLimitOutcome;
  store: RateLimitStoreKind;
  decision: RateLimitDecision | null;
}

export interface RateLimiter {
  readonly policies: RateLimitPolicies;
  /** `redis` when REDIS_URL is configured (with the in-process store as its fallback). */
  readonly backend: 'redis' | 'memory';
  /** Counts one request of `identity` against a policy. Never throws: Redis failures are outcomes. */
  check(policyName: RateLimitPolicyName, identity: string): Promise<RateLimitCheck>;
  /** Keys held by the in-process store (the primary one, or the fallback when Redis is configured). */
  memoryKeys(): number;
  /** True while Redis answered the last call (always false without Redis). */
  redisHealthy(): boolean;
  stop(): void;
}

/** After a Redis failure, skip Redis for this long so a hung server costs one timeout, not one per request. */
const REDIS_BYPASS_MS = 1_000;

/**
 * The rate limiter: GCRA in Redis when configured, in this process otherwise. When Redis fails,
 * policies with `failClosed` report `unavailable` (the middleware answers 503) and the others
 * fall back to per-process limits at once; Redis is tried again after a short pause.
 */
export function createRateLimiter(options: {
  policies: RateLimitPolicies;
  redis: Redis | undefined;
  clock: Clock;
  logger: Logger;
  memoryMaxKeys: number;
  onDecision?: (policy: RateLimitPolicyName, outcome: RateLimitOutcome, store: RateLimitStoreKind) => void;
}): RateLimiter {
  const memory: MemoryRateLimitStore = createMemoryRateLimitStore({ maxKeys: options.memoryMaxKeys, clock: options.clock });
  const redisStore = options.redis ? createRedisRateLimitStore(options.redis) : undefined;
  let bypassRedisUntil = 0;
  let healthy = options.redis !== undefined;
  const sweeper = setInterval(() => memory.sweep(), 30_000);
  sweeper.unref();

  async function decide(policyName: RateLimitPolicyName, policy: RateLimitPolicy, identity: string) {
    const key = `${policyName}:${identity}`;
    if (!options.redis || !redisStore) return { decision: await memory.hit(key, policy), store: 'memory' as const };
    if (Date.now() >= bypassRedisUntil && options.redis.status === 'ready') {
      try {
        const decision = await redisStore.hit(key, policy);
        if (!healthy) options.logger.info('rate limiting is back on Redis');
        healthy = true;
        return { decision, store: 'redis' as const };
      } catch (error) {
        bypassRedisUntil = Date.now() + REDIS_BYPASS_MS;
        if (healthy) {
          options.logger.warn(
            { err: { message: (error as Error).message } },
            'rate limiting cannot reach Redis: per-process limits for most routes, 503 for fail-closed (money) routes',
          );
        }
        healthy = false;
      }
    } else {
      healthy = false;
    }
    if (policy.failClosed) return { decision: null, store: 'none' as const };
    return { decision: await memory.hit(key, policy), store: 'memory' as const };
  }

  return {
    policies: options.policies,
    backend: options.redis ? 'redis' : 'memory',
    async check(policyName, identity) {
      const policy = options.policies.get(policyName);
      if (policy.mode === 'off') return { policy, outcome: 'skipped', store: 'none', decision: null };
      const { decision, store } = await decide(policyName, policy, identity);
      let outcome: RateLimitOutcome;
      if (!decision) outcome = policy.mode === 'shadow' ? 'allowed' : 'unavailable';
      else if (decision.allowed) outcome = 'allowed';
      else outcome = policy.mode === 'shadow' ? 'shadow_limited' : 'limited';
      options.onDecision?.(policyName, outcome, store);
      return { policy, outcome, store, decision };
    },
    memoryKeys: () => memory.size(),
    redisHealthy: () => options.redis !== undefined && healthy && options.redis.status === 'ready',
    stop: () => clearInterval(sweeper),
  };
}

/** Who a limit applies to: the signed-in principal, else the client IP (as Express resolves it behind trusted proxies). */
export function rateLimitIdentity(req: Request): string {
  const principal = req.principal ? principalKey(req.principal) : null;
  return principal ?? `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
}

/** Logs name the caller without writing raw IP addresses. */
function loggableIdentity(identity: string): string {
  return identity.startsWith('ip:') ? `ip#${createHash('sha256').update(identity).digest('hex').slice(0, 12)}` : identity;
}

/**
 * Route middleware applying one named policy. Enforced policies send `RateLimit-Limit`,
 * `RateLimit-Remaining` and `RateLimit-Reset` and refuse with 429 + `Retry-After`; shadow
 * policies only log what they would refuse; a fail-closed policy without Redis answers 503.
 */
export function rateLimit(deps: { rateLimiter: RateLimiter; logger: Logger }, policyName: RateLimitPolicyName): RequestHandler {
  return async (req, res, next) => {
    const identity = rateLimitIdentity(req);
    const { policy, outcome, decision } = await deps.rateLimiter.check(policyName, identity);
    if (outcome === 'unavailable') {
      next(
        new AppError('unavailable', 'This action is briefly unavailable while a safety system recovers; please retry shortly.', null, 2),
      );
      return;
    }
    if (outcome === 'shadow_limited') {
      deps.logger.warn(
        { policy: policyName, identity: loggableIdentity(identity), requestId: req.requestId, method: req.method, path: req.path },
        'rate limit exceeded (shadow mode: allowed)',
      );
    }
    if (decision && policy.mode === 'enforce') {
      res.setHeader('RateLimit-Limit', String(decision.limit));
      res.setHeader('RateLimit-Remaining', String(decision.remaining));
      res.setHeader('RateLimit-Reset', String(decision.resetSeconds));
    }
    if (outcome === 'limited' && decision) {
      next(
        new AppError(
          'rate_limited',
          `Too many requests; try again in ${decision.retryAfterSeconds} second${decision.retryAfterSeconds === 1 ? '' : 's'}.`,
          null,
          decision.retryAfterSeconds,
        ),
      );
      return;
    }
    next();
  };
}
