import { seedDemoData } from '@instainstru/db/seed';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { tokenHeaders } from './support/bookings.ts';
import { createUser } from './support/factories.ts';
import { waitFor } from './support/jobs.ts';
import { type RedisProcess, startRedisServer } from './support/redis.ts';

// Tuesday 2027-03-02, 10:00 in New York; "tomorrow" is Wednesday 2027-03-03 (week of Monday 2027-03-01).
const NOW = '2027-03-02T15:00:00Z';
const TOMORROW = '2027-03-03';
const WEEK = '2027-03-01';
const clock = fixedClock(NOW);
const ENV = { RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' }, booking: { mode: 'off' } }) };
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ clock, env: ENV });
  await seedDemoData(api.database.db, { now: new Date(NOW) });
}, 180_000);
afterAll(async () => {
  await api?.close();
});

type Item = { instructor: { id: string }; service: { id: string }; unmet: string[]; nextAvailableAt: string | null };

async function search(target: TestApi, q: string) {
  const response = await target.request(`/api/v1/search?q=${encodeURIComponent(q)}&limit=100`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as { items: Item[]; cached: boolean; parse: any; total: number };
}

const inWindow = (body: { items: Item[] }) => body.items.filter((item) => item.unmet.length === 0).map((item) => item.instructor.id);

/** The instructor saves tomorrow's hours through the availability API, as they would in the app. */
async function setTomorrow(instructorId: string, ranges: Array<{ start: string; end: string }>) {
  const headers = tokenHeaders(api, instructorId, ['instructor']);
  const week = await api.request(`/api/v1/instructors/me/availability/weeks/${WEEK}`, { headers });
  expect(week.status).toBe(200);
  const saved = await api.request(`/api/v1/instructors/me/availability/weeks/${WEEK}`, {
    method: 'PUT',
    headers: { ...headers, 'if-match': week.body.etag },
    json: { days: [{ day: TOMORROW, ranges }] },
  });
  expect(saved.status, JSON.stringify(saved.body)).toBe(200);
}

describe('search caching', () => {
  it('serves a repeated search from the cache until an instructor edits availability', async () => {
    const query = 'spanish tomorrow evening';
    const first = await search(api, query);
    expect(first.cached).toBe(false);
    const again = await search(api, query);
    expect(again.cached).toBe(true);
    expect(again.items).toEqual(first.items);

    // one instructor who is free tomorrow evening closes the day
    const free = inWindow(first);
    expect(free.length).toBeGreaterThan(0);
    const closing = free[0]!;
    await setTomorrow(closing, []);
    const afterClose = await search(api, query);
    expect(afterClose.cached).toBe(false);
    expect(inWindow(afterClose)).not.toContain(closing);

    // and one who was not free opens tomorrow evening: the cached answer must not hide them
    const { rows } = await sql<{ id: string }>`
      select o.instructor_id as id from instructor_services o
      join services s on s.id = o.service_id and s.slug = 'spanish'
      join instructor_profiles p on p.user_id = o.instructor_id and p.is_live
      where o.deleted_at is null and o.is_active and o.location_types && array['online', 'instructor_location']
      order by o.instructor_id
    `.execute(api.database.db);
    const opening = rows.map((row) => row.id).find((id) => !inWindow(afterClose).includes(id) && id !== closing);
    expect(opening).toBeDefined();
    expect((await search(api, query)).cached).toBe(true);
    await setTomorrow(opening!, [{ start: '17:00', end: '21:00' }]);
    const afterOpen = await search(api, query);
    expect(afterOpen.cached).toBe(false);
    expect(inWindow(afterOpen)).toContain(opening);
    const opened = afterOpen.items.find((item) => item.instructor.id === opening)!;
    const at = DateTime.fromISO(opened.nextAvailableAt!, { zone: 'America/New_York' });
    expect(at.toISODate()).toBe(TOMORROW);
    expect(at.hour).toBeGreaterThanOrEqual(17);
  });

  it('a new alias changes answers at once (catalog version)', async () => {
    const before = await search(api, 'piano in slopeville');
    expect(before.parse.location.tier).toBeNull();
    expect((await search(api, 'piano in slopeville')).cached).toBe(true);
    const adminId = await createUser(api.database, { roles: ['admin'] });
    const created = await api.request('/api/v1/admin/search/aliases', {
      method: 'POST',
      headers: tokenHeaders(api, adminId, ['admin']),
      json: { phrase: 'Slopeville', regionSlugs: ['park-slope'] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const after = await search(api, 'piano in slopeville');
    expect(after.cached).toBe(false);
    expect(after.parse.location).toMatchObject({ tier: 'alias', regionNames: ['Park Slope'] });
  });
});

describe('search when Redis fails', () => {
  let redis: RedisProcess;
  let withRedis: TestApi;

  beforeAll(async () => {
    redis = await startRedisServer();
    withRedis = await startTestApi({ clock, env: ENV, redisUrl: redis.url, database: api.database });
  });
  afterAll(async () => {
    await withRedis?.close();
    await redis?.stop();
  });

  it('keeps answering without Redis (a short-lived cache in the process meanwhile), and uses Redis again once it is back', async () => {
    const query = 'guitar lessons in brooklyn';
    const healthy = await search(withRedis, query);
    expect((await search(withRedis, query)).cached).toBe(true);

    await redis.kill();
    const first = await search(withRedis, query);
    expect(first.cached).toBe(false);
    expect(first.items.map((item) => item.instructor.id)).toEqual(healthy.items.map((item) => item.instructor.id));
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const started = performance.now();
      const during = await search(withRedis, query);
      expect(during.cached).toBe(true);
      expect(during.items).toEqual(first.items);
      expect(performance.now() - started).toBeLessThan(1_000);
    }
    const another = await withRedis.request(`/api/v1/search?q=${encodeURIComponent('yoga in bed stuy')}`);
    expect(another.status).toBe(200);

    await redis.restart();
    await waitFor(() => withRedis.deps.redis?.status === 'ready', { timeoutMs: 5_000, what: 'Redis to reconnect' });
    // the restarted Redis is empty: one miss, then answers come from it again
    expect((await search(withRedis, query)).cached).toBe(false);
    expect((await search(withRedis, query)).cached).toBe(true);
  });
});
