import type { Result } from 'ioredis';
import type { Redis } from '../shared/redis.ts';
import { emissionIntervalMicros, type GcraPolicy, toDecision } from './rate-limit-gcra.ts';
import type { RateLimitStore } from './rate-limit-memory-store.ts';

/**
 * The GCRA step of rate-limit-gcra.ts as one atomic Lua script. It reads the clock with Redis
 * `TIME`, so every API process judges a caller by the same clock whatever their own clocks say.
 * KEYS[1] = the caller's key; ARGV = emission interval (µs), limit.
 * Returns {allowed 0|1, remaining, retry-after µs, reset µs}.
 */
const GCRA_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local burst = interval * limit
local new_tat = tat + interval
local allow_at = new_tat - burst
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((burst - (new_tat - now)) / interval), 0, new_tat - now}
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    instainstruGcra(key: string, intervalMicros: number, limit: number): Result<[number, number, number, number], Context>;
  }
}

/** GCRA over Redis: shared by every process; fails (rejects) fast when Redis is down. */
export function createRedisRateLimitStore(redis: Redis): RateLimitStore {
  // EVALSHA with a transparent EVAL fallback, so a restarted Redis (empty script cache) just works.
  if (typeof redis.instainstruGcra !== 'function') redis.defineCommand('instainstruGcra', { numberOfKeys: 1, lua: GCRA_LUA });
  return {
    async hit(key, policy: GcraPolicy) {
      const [allowed, remaining, retryAfterMicros, resetMicros] = await redis.instainstruGcra(
        `rl:${key}`,
        emissionIntervalMicros(policy),
        policy.limit,
      );
      return toDecision(policy.limit, allowed === 1, remaining, retryAfterMicros, resetMicros);
    },
  };
}
