/**
 * GCRA (generic cell rate algorithm): a policy of `limit` requests per `periodSeconds` lets a
 * caller spend `limit` requests at once and then one every `periodSeconds / limit` seconds. The
 * only state per caller is its theoretical arrival time (TAT). All arithmetic is in whole
 * microseconds so that a burst of exactly `limit` is allowed and `limit + 1` is not, with no
 * floating-point drift. The Redis store runs the same steps in Lua (rate-limit-redis-store.ts).
 */
export interface GcraPolicy {
  limit: number;
  periodSeconds: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Requests still allowed right now. */
  remaining: number;
  /** Seconds until the full allowance is back (`RateLimit-Reset`). */
  resetSeconds: number;
  /** Seconds to wait before the next request can pass (0 when allowed; `Retry-After`). */
  retryAfterSeconds: number;
}

/** Microseconds between two requests at the sustained rate (rounded up: never more than the limit). */
export function emissionIntervalMicros(policy: GcraPolicy): number {
  return Math.ceil((policy.periodSeconds * 1_000_000) / policy.limit);
}

/** One GCRA step: the decision and the TAT to store (unchanged when denied). */
export function gcraStep(
  storedTatMicros: number | undefined,
  nowMicros: number,
  policy: GcraPolicy,
): { decision: RateLimitDecision; tatMicros: number } {
  const interval = emissionIntervalMicros(policy);
  const burst = interval * policy.limit;
  const tat = Math.max(storedTatMicros ?? nowMicros, nowMicros);
  const newTat = tat + interval;
  const allowAt = newTat - burst;
  if (nowMicros < allowAt) {
    return { decision: toDecision(policy.limit, false, 0, allowAt - nowMicros, tat - nowMicros), tatMicros: tat };
  }
  const remaining = Math.floor((burst - (newTat - nowMicros)) / interval);
  return { decision: toDecision(policy.limit, true, remaining, 0, newTat - nowMicros), tatMicros: newTat };
}

/** Builds the decision from the raw micro-second figures both stores produce. */
export function toDecision(
  limit: number,
  allowed: boolean,
  remaining: number,
  retryAfterMicros: number,
  resetMicros: number,
): RateLimitDecision {
  return {
    allowed,
    limit,
    remaining: Math.max(0, remaining),
    resetSeconds: Math.max(0, Math.ceil(resetMicros / 1_000_000)),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(retryAfterMicros / 1_000_000)),
  };
}
