import type { Logger } from './logger.ts';
import type { Redis } from './redis.ts';

/**
 * A small JSON cache with version keys for invalidation: readers build their key from the
 * current version of a namespace (e.g. `availability:<instructorId>`), writers bump the version,
 * and every older entry is simply never read again (it expires by TTL).
 *
 * Redis when configured (shared by every API process), otherwise an in-process LRU. A cache
 * failure never fails a request: a Redis error is a miss, and a failed bump is bounded by the TTL.
 */
export interface Cache {
  readonly backend: 'redis' | 'memory';
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  version(namespace: string): Promise<number>;
  bump(namespace: string): Promise<void>;
}

export function createCache(options: { redis: Redis | undefined; logger: Logger; maxEntries?: number; now?: () => number }): Cache {
  return options.redis ? redisCache(options.redis, options.logger) : memoryCache(options.maxEntries ?? 5_000, options.now ?? Date.now);
}

function memoryCache(maxEntries: number, now: () => number): Cache {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const versions = new Map<string, number>();
  return {
    backend: 'memory',
    async get<T>(key: string) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        entries.delete(key);
        return undefined;
      }
      // refresh recency for LRU eviction
      entries.delete(key);
      entries.set(key, entry);
      return JSON.parse(entry.value) as T;
    },
    async set(key, value, ttlSeconds) {
      entries.delete(key);
      entries.set(key, { value: JSON.stringify(value), expiresAt: now() + ttlSeconds * 1000 });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
    },
    async version(namespace) {
      return versions.get(namespace) ?? 0;
    },
    async bump(namespace) {
      versions.set(namespace, (versions.get(namespace) ?? 0) + 1);
    },
  };
}

function redisCache(redis: Redis, logger: Logger): Cache {
  const warn = (operation: string, error: unknown) =>
    logger.warn({ operation, err: { message: (error as Error).message } }, 'cache unavailable; answering without it');
  return {
    backend: 'redis',
    async get<T>(key: string) {
      try {
        const raw = await redis.get(`cache:${key}`);
        return raw === null ? undefined : (JSON.parse(raw) as T);
      } catch (error) {
        warn('get', error);
        return undefined;
      }
    },
    async set(key, value, ttlSeconds) {
      try {
        await redis.set(`cache:${key}`, JSON.stringify(value), 'EX', ttlSeconds);
      } catch (error) {
        warn('set', error);
      }
    },
    async version(namespace) {
      try {
        return Number((await redis.get(`cache-version:${namespace}`)) ?? 0);
      } catch (error) {
        warn('version', error);
        // Without Redis we cannot know the version: use a value no stored entry has, i.e. a miss.
        return -Date.now();
      }
    },
    async bump(namespace) {
      try {
        await redis.incr(`cache-version:${namespace}`);
      } catch (error) {
        warn('bump', error);
      }
    },
  };
}
