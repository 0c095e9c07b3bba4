/**
 * Where LLM answers are kept between requests. The in-process LRU below is the default; a
 * Redis-backed cache only has to offer these two calls (values are JSON strings).
 */
export interface QueryCache {
  get(key: string): Promise<string | null> | string | null;
  set(key: string, value: string, ttlSeconds: number): Promise<unknown> | unknown;
}

export interface LruCacheOptions {
  maxEntries?: number;
  /** Clock in milliseconds; tests pass their own. */
  now?: () => number;
}

/** A least-recently-used cache with per-entry expiry, valid for one process. */
export function createLruCache(options: LruCacheOptions = {}): QueryCache & { size(): number } {
  const maxEntries = options.maxEntries ?? 1000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { value: string; expiresAt: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return null;
      entries.delete(key);
      if (entry.expiresAt <= now()) return null;
      // Re-inserting moves the key to the young end of the Map's insertion order.
      entries.set(key, entry);
      return entry.value;
    },
    set(key, value, ttlSeconds) {
      entries.delete(key);
      entries.set(key, { value, expiresAt: now() + ttlSeconds * 1000 });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
    },
    size: () => entries.size,
  };
}
