/**
 * A small in-process map with a time limit and a size limit (oldest out first), for values that
 * are cheap to recompute but costly to load on every request. Never shared between processes:
 * whatever lands here must be keyed by a version that changes when the data does, or be fine
 * to serve `ttlMs` late.
 */
export interface TtlMemo<T> {
  get(key: string): T | undefined;
  set(key: string, value: T): void;
  delete(key: string): void;
}

export function createTtlMemo<T>(options: { maxEntries: number; ttlMs: number; now?: () => number }): TtlMemo<T> {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { value: T; expiresAt: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    delete(key) {
      entries.delete(key);
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, { value, expiresAt: now() + options.ttlMs });
      while (entries.size > options.maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
    },
  };
}
