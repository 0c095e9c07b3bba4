import { createHash } from 'node:crypto';
import { availabilityCacheNamespace } from '../availability/get-public-availability.ts';
import type { Cache } from '../shared/cache.ts';
import type { Logger } from '../shared/logger.ts';
import type { Redis } from '../shared/redis.ts';
import type { SearchOutcome } from './search-result.ts';

/** Spec §5: responses 5 minutes, parsed queries 1 hour. */
export const RESPONSE_TTL_SECONDS = 300;
export const PARSE_TTL_SECONDS = 3600;
/** Bumped when this module changes search data (alias approvals): every cached answer is stale. */
export const SEARCH_CATALOG_NAMESPACE = 'search:catalog';

export function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 32);
}

/**
 * A cached answer remembers the availability version of every instructor it considered
 * (the namespace public availability uses, bumped by every week save, blackout and booking
 * change). A reader compares them all: one instructor who changed their hours makes it stale,
 * including one who was filtered out before and might now be free.
 */
export interface CachedOutcome {
  outcome: SearchOutcome;
  versions: Record<string, number>;
}

/**
 * Reads availability versions of many instructors: one MGET on Redis, the shared in-process
 * cache otherwise. Undefined when Redis cannot answer: the caller then neither trusts nor stores
 * a cached answer (search bypasses the cache during an outage).
 */
export async function readAvailabilityVersions(
  instructorIds: readonly string[],
  backend: { redis: Redis | undefined; availabilityCache: Cache; logger: Logger },
): Promise<Record<string, number> | undefined> {
  const versions: Record<string, number> = {};
  if (instructorIds.length === 0) return versions;
  if (backend.redis && backend.availabilityCache.backend === 'redis') {
    try {
      // the key shared/cache.ts keeps a namespace's version under
      const values = await backend.redis.mget(...instructorIds.map((id) => `cache-version:${availabilityCacheNamespace(id)}`));
      instructorIds.forEach((id, index) => {
        versions[id] = Number(values[index] ?? 0);
      });
      return versions;
    } catch (error) {
      backend.logger.warn({ err: { message: (error as Error).message } }, 'search: cache unavailable; answering without it');
      return undefined;
    }
  }
  await Promise.all(
    instructorIds.map(async (id) => {
      versions[id] = await backend.availabilityCache.version(availabilityCacheNamespace(id));
    }),
  );
  return versions;
}

export function versionsMatch(stored: Record<string, number>, current: Record<string, number> | undefined): boolean {
  if (!current) return false;
  for (const [id, version] of Object.entries(stored)) if (current[id] !== version) return false;
  return true;
}
