import type { Clock } from '../shared/clock.ts';
import { type GcraPolicy, gcraStep, type RateLimitDecision } from './rate-limit-gcra.ts';

/** Where rate-limit state lives: Redis (shared by every process) or this process' memory. */
export interface RateLimitStore {
  hit(key: string, policy: GcraPolicy): Promise<RateLimitDecision>;
}

export interface MemoryRateLimitStore extends RateLimitStore {
  /** Keys held right now (bounded by `maxKeys`). */
  size(): number;
  /** Drops every key whose allowance is fully back (such a key is the same as no key). */
  sweep(): number;
}

/**
 * The in-process GCRA store, valid for one process only. Memory is bounded whatever the traffic:
 * keys live in insertion order (re-inserted when written, so the oldest-written come first),
 * each write drops a few expired keys from the front, and beyond `maxKeys` the oldest key is
 * evicted even if unexpired — under a flood of distinct callers, forgetting the quietest one is
 * the price of not running out of memory.
 */
export function createMemoryRateLimitStore(options: { maxKeys: number; clock: Clock }): MemoryRateLimitStore {
  const tats = new Map<string, number>();
  const nowMicros = () => options.clock.now().getTime() * 1_000;

  function dropExpiredFromFront(now: number, budget: number): void {
    for (const [key, tat] of tats) {
      if (budget-- <= 0 || tat > now) return;
      tats.delete(key);
    }
  }

  return {
    async hit(key, policy) {
      const now = nowMicros();
      const { decision, tatMicros } = gcraStep(tats.get(key), now, policy);
      if (decision.allowed) {
        tats.delete(key);
        tats.set(key, tatMicros);
        dropExpiredFromFront(now, 2);
        while (tats.size > options.maxKeys) {
          const oldest = tats.keys().next().value;
          if (oldest === undefined) break;
          tats.delete(oldest);
        }
      }
      return decision;
    },
    size: () => tats.size,
    sweep() {
      const now = nowMicros();
      let dropped = 0;
      for (const [key, tat] of tats) {
        if (tat <= now) {
          tats.delete(key);
          dropped += 1;
        }
      }
      return dropped;
    },
  };
}
