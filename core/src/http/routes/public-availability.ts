import { z } from 'zod';
import { getNextAvailable, getPublicAvailability } from '../../availability/get-public-availability.ts';
import { LOCATION_TYPES } from '../../booking/booking-rules.ts';
import { type Cache, createCache } from '../../shared/cache.ts';
import { availabilityCacheNamespace } from '../../availability/get-public-availability.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'Use a date like 2027-03-14');

export const InstructorIdParams = z.object({ id: z.string().min(1).max(64).describe('Instructor id') }).strict();

const SlotQueryBase = z.object({
  serviceId: z.string().min(1).max(64).describe('Catalog service id (from the instructor’s `services`)'),
  durationMinutes: z.coerce.number().int().min(30).max(240).describe('Lesson length in minutes'),
  locationType: z.enum(LOCATION_TYPES).describe('Where the lesson happens'),
});

export const AvailabilityQuery = SlotQueryBase.extend({
  from: Day.optional().describe('First local day (America/New_York), default today'),
  to: Day.optional().describe('Last local day, inclusive; default from + 6; at most 31 days'),
}).strict();
export const NextAvailableQuery = SlotQueryBase.strict();

const AvailabilityResponse = z
  .object({
    instructorId: z.string(),
    serviceId: z.string(),
    durationMinutes: z.number().int(),
    locationType: z.enum(LOCATION_TYPES),
    timezone: z.string(),
    from: z.string(),
    to: z.string(),
    slots: z.array(z.object({ startsAt: z.string().describe('UTC instant, ISO 8601') })),
  })
  .meta({ id: 'PublicAvailability' });

const NextAvailableResponse = z.object({
  instructorId: z.string(),
  serviceId: z.string(),
  nextAvailable: z.object({ startsAt: z.string() }).nullable().describe('null when nothing is open within the public horizon'),
});

const caches = new WeakMap<ApiDeps, Cache>();

/** The availability cache of this app (Redis-backed when configured, so shared by every process). */
export function availabilityCache(deps: ApiDeps): Cache {
  let cache = caches.get(deps);
  if (!cache) {
    cache = createCache({ redis: deps.redis, logger: deps.logger });
    caches.set(deps, cache);
  }
  return cache;
}

/** Call after a week save, blackout change or booking change so the public listing is recomputed. */
export async function invalidateAvailability(deps: ApiDeps, instructorId: string): Promise<void> {
  await availabilityCache(deps).bump(availabilityCacheNamespace(instructorId));
}

/** Public, login-free availability: start instants only, no student data. */
export function publicAvailabilityRoutes(api: ApiRouter, deps: ApiDeps): void {
  const cache = availabilityCache(deps);
  const slotDeps = {
    clock: deps.clock,
    cache,
    horizonDays: deps.config.availability.horizonDays,
    detail: deps.config.availability.detail,
    cacheTtlSeconds: deps.config.availability.cacheTtlSeconds,
  };
  const cacheControl = `public, max-age=${Math.min(30, deps.config.availability.cacheTtlSeconds)}`;

  api.add(
    {
      method: 'get',
      path: '/public/instructors/:id/availability',
      operationId: 'getPublicAvailability',
      summary: 'Bookable start times of an instructor’s service',
      tags: ['availability'],
      auth: 'public',
      params: InstructorIdParams,
      query: AvailabilityQuery,
      responses: { 200: { description: 'Bookable starts', schema: AvailabilityResponse } },
    },
    async (req, res) => {
      const { id } = InstructorIdParams.parse(req.params);
      const query = AvailabilityQuery.parse(req.query);
      const result = await getPublicAvailability(
        deps.database.db,
        { instructorId: id, ...query, fromDay: query.from, toDay: query.to },
        slotDeps,
      );
      res.setHeader('Cache-Control', cacheControl);
      res.json(result);
    },
  );

  api.add(
    {
      method: 'get',
      path: '/public/instructors/:id/next-available',
      operationId: 'getNextAvailable',
      summary: 'The first bookable start of an instructor’s service',
      tags: ['availability'],
      auth: 'public',
      params: InstructorIdParams,
      query: NextAvailableQuery,
      responses: { 200: { description: 'The next bookable start', schema: NextAvailableResponse } },
    },
    async (req, res) => {
      const { id } = InstructorIdParams.parse(req.params);
      const query = NextAvailableQuery.parse(req.query);
      const nextAvailable = await getNextAvailable(deps.database.db, { instructorId: id, ...query }, slotDeps);
      res.setHeader('Cache-Control', cacheControl);
      res.json({ instructorId: id, serviceId: query.serviceId, nextAvailable });
    },
  );
}
