import { seedDemoData } from '@instainstru/db/seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performEffect } from '../src/jobs/effects.ts';
import { createCoreHandlers } from '../src/jobs/handlers.ts';
import type { JobContext } from '../src/jobs/start-worker.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows } from './support/auth.ts';
import { tokenHeaders } from './support/bookings.ts';
import { createUser } from './support/factories.ts';
import { waitFor } from './support/jobs.ts';

// Tuesday 2027-03-02, 10:00 in New York.
const NOW = '2027-03-02T15:00:00Z';
const clock = fixedClock(NOW);
let api: TestApi;
let admin: Record<string, string>;

beforeAll(async () => {
  api = await startTestApi({ clock, env: { RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' }, booking: { mode: 'off' } }) } });
  await seedDemoData(api.database.db, { now: new Date(NOW) });
  admin = tokenHeaders(api, await createUser(api.database, { roles: ['admin'] }), ['admin']);
}, 180_000);
afterAll(async () => {
  await api?.close();
});

type Item = {
  instructor: { id: string };
  service: { id: string };
  neighborhoods: string[];
  nextAvailableAt: string | null;
  lessonTypes: string[];
  durations: number[];
  unmet: string[];
};

async function search(q: string, headers: Record<string, string> = {}) {
  const response = await api.request(`/api/v1/search?q=${encodeURIComponent(q)}&limit=100`, { headers });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as { searchId: string; items: Item[]; total: number; parse: any };
}

async function click(searchId: string, item: Item, position: number, headers: Record<string, string> = {}) {
  return api.request(`/api/v1/search/${searchId}/click`, {
    method: 'POST',
    headers,
    json: { instructorId: item.instructor.id, serviceId: item.service.id, position },
  });
}

/** Runs a scheduled job's handler as the worker would at its slot (the clock moves there). */
async function runJob(name: 'search.alias-learning' | 'search.analytics-rollup', slot: string) {
  clock.set(slot);
  const handler = createCoreHandlers()[name];
  expect(handler).toBeDefined();
  const schedule = name === 'search.alias-learning' ? 'alias-learning' : 'search-analytics-rollup';
  const context = {
    clock,
    effect: (effect: string, perform: Parameters<typeof performEffect>[2]) =>
      performEffect(api.database.db, { jobName: name, jobKey: `${schedule}@${slot}`, jobId: null, effect }, perform),
  } as unknown as JobContext;
  return (await handler!(api.database.db, { schedule, slot }, context)) as any;
}

const session = (id: string) => ({ 'x-session-id': `session-${id}-0001` });

describe('clicks', () => {
  it('records a click once, for a real search and a real instructor', async () => {
    const body = await search('piano lessons', session('click'));
    const first = body.items[0]!;
    const recorded = await click(body.searchId, first, 1, session('click'));
    expect(recorded.status).toBe(201);
    expect(recorded.body).toMatchObject({ searchId: body.searchId, recorded: true });
    const again = await click(body.searchId, first, 1, session('click'));
    expect(again.body).toMatchObject({ id: recorded.body.id, recorded: false });

    expect((await click('01JUNKNOWNSEARCH000000000', first, 1)).status).toBe(404);
    const unknownInstructor = await api.request(`/api/v1/search/${body.searchId}/click`, {
      method: 'POST',
      json: { instructorId: 'nobody', position: 1 },
    });
    expect(unknownInstructor.status).toBe(422);
    expect(unknownInstructor.body.field).toBe('instructorId');
    const badPosition = await api.request(`/api/v1/search/${body.searchId}/click`, {
      method: 'POST',
      json: { instructorId: first.instructor.id, position: 0 },
    });
    expect(badPosition.status).toBe(422);
    expect(badPosition.body.field).toBe('position');
    const rows = await api.database.db.selectFrom('searchClicks').where('searchId', '=', body.searchId).selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ instructorId: first.instructor.id, position: 1, sessionId: 'session-click-0001' });
    expect(rows[0]?.ipHash).toMatch(/\w{16,}/);
  });
});

describe('search analytics for admins and the copilot', () => {
  it('reports top queries with click-through and the bookings that follow a click', async () => {
    const studentId = await createUser(api.database, { roles: ['student'] });
    const student = tokenHeaders(api, studentId, ['student']);
    const query = 'spanish tomorrow evening';
    const found = await search(query, student);
    await search(query, session('other'));
    const chosen = found.items.find((item) => item.unmet.length === 0 && item.lessonTypes.includes('online'))!;
    expect(chosen).toBeDefined();
    expect((await click(found.searchId, chosen, found.items.indexOf(chosen) + 1, student)).status).toBe(201);

    const top = async () => {
      const response = await api.request(`/api/v1/admin/search/top-queries?contains=${encodeURIComponent(query)}`, { headers: admin });
      expect(response.status).toBe(200);
      return response.body;
    };
    const beforeBooking = await top();
    expect(beforeBooking.total).toBe(1);
    expect(beforeBooking.items[0]).toMatchObject({ query, searches: 2, clicks: 1, clickThroughRate: 0.5, bookings: 0 });

    clock.set('2027-03-02T15:20:00Z');
    const booked = await api.request('/api/v1/bookings', {
      method: 'POST',
      headers: { ...student, 'idempotency-key': 'search-attribution-1' },
      json: {
        instructorId: chosen.instructor.id,
        serviceId: chosen.service.id,
        startsAt: chosen.nextAvailableAt,
        durationMinutes: Math.min(...chosen.durations),
        locationType: 'online',
      },
    });
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    // a booking nobody clicked for does not count
    const otherStudent = await createUser(api.database, { roles: ['student'] });
    const other = await search('guitar lessons', tokenHeaders(api, otherStudent, ['student']));
    expect(other.items.length).toBeGreaterThan(0);

    const afterBooking = await top();
    expect(afterBooking.items[0]).toMatchObject({ query, searches: 2, clicks: 1, bookings: 1, bookingConversionRate: 0.5 });
    expect(afterBooking.rolledUpThrough).toBeNull();

    // the hourly rollup gives the same numbers once the hour is over
    const rolled = await runJob('search.analytics-rollup', '2027-03-02T17:05:00Z');
    expect(rolled.rows).toBeGreaterThan(0);
    const afterRollup = await top();
    expect(afterRollup.rolledUpThrough).toBe('2027-03-02T16:00:00.000Z');
    expect(afterRollup.items).toEqual(afterBooking.items);
    const overview = await api.request('/api/v1/admin/search/overview', { headers: admin });
    expect(overview.status).toBe(200);
    expect(overview.body.searches).toBeGreaterThanOrEqual(4);
    expect(overview.body.bookings).toBe(1);
  });

  it('lists zero- and low-result queries with the fix each suggests, and unresolved places', async () => {
    await search('harp lessons');
    await search('harp lessons');
    const cello = await search('cello lessons in blorbville');
    expect(cello.parse.location.tier).toBeNull();
    expect(cello.total).toBeLessThan(5);

    const gaps = await api.request('/api/v1/admin/search/gaps?limit=100', { headers: admin });
    expect(gaps.status).toBe(200);
    const harp = gaps.body.items.find((item: { query: string }) => item.query === 'harp lessons');
    expect(harp).toMatchObject({
      searches: 2,
      zeroResultSearches: 2,
      lastReason: 'no_service_match',
      suggestion: { kind: 'service_alias', phrase: 'harp lessons' },
    });
    const blorb = gaps.body.items.find((item: { query: string }) => item.query === 'cello lessons in blorbville');
    expect(blorb).toMatchObject({
      locationPhrase: 'blorbville',
      locationTier: null,
      suggestion: { kind: 'location_alias', phrase: 'blorbville' },
    });
    const zeroOnly = await api.request('/api/v1/admin/search/gaps?only=zero&limit=100', { headers: admin });
    expect(zeroOnly.body.items.map((item: { query: string }) => item.query)).toContain('harp lessons');
    expect(zeroOnly.body.items.map((item: { query: string }) => item.query)).not.toContain('cello lessons in blorbville');

    const unresolved = await api.request('/api/v1/admin/search/unresolved-locations', { headers: admin });
    expect(unresolved.status).toBe(200);
    expect(unresolved.body.items).toContainEqual(expect.objectContaining({ phrase: 'blorbville', count: 1, alias: null }));

    // paging: one per page, totals stay
    const first = await api.request('/api/v1/admin/search/gaps?limit=1', { headers: admin });
    expect(first.body.items).toHaveLength(1);
    expect(first.body.total).toBe(gaps.body.total);
    const second = await api.request(`/api/v1/admin/search/gaps?limit=1&cursor=${first.body.nextCursor}`, { headers: admin });
    expect(second.body.items[0].query).not.toBe(first.body.items[0].query);
  });

  it('is only for staff', async () => {
    const student = tokenHeaders(api, await createUser(api.database, { roles: ['student'] }), ['student']);
    expect((await api.request('/api/v1/admin/search/top-queries', { headers: student })).status).toBe(403);
    expect((await api.request('/api/v1/admin/search/aliases')).status).toBe(401);
    expect(
      (
        await api.request('/api/v1/admin/search/aliases', {
          method: 'POST',
          headers: student,
          json: { phrase: 'x', regionSlugs: ['soho'] },
        })
      ).status,
    ).toBe(403);
  });
});

describe('alias learning', () => {
  /** Searches a phrase five times (first pages, anonymous sessions) and clicks the given results. */
  async function searchAndClick(q: string, pick: (items: Item[]) => Item[]) {
    let last: { searchId: string; items: Item[] } | undefined;
    for (let index = 0; index < 5; index += 1) last = await search(q, session(`learn${index}`));
    const chosen = pick(last!.items);
    for (const item of chosen)
      expect((await click(last!.searchId, item, last!.items.indexOf(item) + 1, session('learn4'))).status).toBe(201);
    return chosen;
  }

  /** Regions (service-area names) and how many of the items cover each. */
  function coverage(items: Item[]): Map<string, number> {
    const counts = new Map<string, number>();
    for (const item of items) for (const name of item.neighborhoods) counts.set(name, (counts.get(name) ?? 0) + 1);
    return counts;
  }

  /**
   * Three results covering one region, chosen so that few other regions are shared by all three
   * (plus, when `withStray`, a fourth result elsewhere that shares no region with all of them):
   * the clicks then point clearly at that region.
   */
  function pickClicks(items: Item[], withStray: boolean): { region: string; chosen: Item[] } {
    let best: { region: string; chosen: Item[]; spread: number } | undefined;
    for (const [region] of coverage(items)) {
      const covering = items.filter((item) => item.neighborhoods.includes(region));
      for (let a = 0; a < covering.length; a += 1)
        for (let b = a + 1; b < covering.length; b += 1)
          for (let c = b + 1; c < covering.length; c += 1) {
            const trio = [covering[a]!, covering[b]!, covering[c]!];
            const strays = withStray ? items.filter((item) => !item.neighborhoods.includes(region)) : [undefined];
            for (const stray of strays) {
              const chosen = stray ? [...trio, stray] : trio;
              const counts = [...coverage(chosen).values()];
              if (counts.some((count) => count === chosen.length && stray)) continue;
              const spread = counts.filter((count) => count >= 3).length;
              if (!best || spread < best.spread) best = { region, chosen, spread };
            }
          }
    }
    expect(best, 'no clean set of clicks in the demo data').toBeDefined();
    expect(best!.spread).toBeLessThanOrEqual(3);
    return best!;
  }

  it('turns a phrase whose clicks agree on a region into an alias (auto-approved ≥ 90%, queued ≥ 70%)', async () => {
    let region = '';
    await searchAndClick('guitar in flubberton', (items) => {
      const picked = pickClicks(items, false);
      region = picked.region;
      return picked.chosen;
    });
    let queuedRegion = '';
    await searchAndClick('spanish in zorbland', (items) => {
      const picked = pickClicks(items, true);
      queuedRegion = picked.region;
      return picked.chosen;
    });
    // four searches are not enough evidence
    for (let index = 0; index < 4; index += 1) await search('piano in quuxton', session(`few${index}`));
    await api.request('/api/v1/admin/search/overview', { headers: admin }); // flushes the event log

    const outcome = await runJob('search.alias-learning', '2027-03-03T07:30:00Z');
    const regions = await api.database.db.selectFrom('regions').select(['slug', 'name']).execute();
    const slugOf = (name: string) => regions.find((row) => row.name === name)!.slug;
    const learned = outcome.learned as Array<{
      phrase: string;
      regionSlugs: string[];
      status: string;
      share: number;
      clicks: number;
      searches: number;
    }>;
    expect(learned.map((alias) => alias.phrase).sort()).toEqual(['flubberton', 'zorbland']);
    const flubberton = learned.find((alias) => alias.phrase === 'flubberton')!;
    expect(flubberton).toMatchObject({ status: 'approved', share: 1, clicks: 3, searches: 5 });
    expect(flubberton.regionSlugs).toContain(slugOf(region));
    const zorbland = learned.find((alias) => alias.phrase === 'zorbland')!;
    expect(zorbland).toMatchObject({ status: 'pending', share: 0.75, clicks: 4, searches: 5 });
    expect(zorbland.regionSlugs).toContain(slugOf(queuedRegion));
    // the job is one effect per slot: a replay changes nothing
    expect((await runJob('search.alias-learning', '2027-03-03T07:30:00Z')).replayed).toBe(true);

    // the approved alias is in use within seconds (every process re-reads the catalog when it changes)
    const resolved = await waitFor(
      async () => {
        const body = await search('guitar in flubberton');
        return body.parse.location.tier === 'alias' ? body : null;
      },
      { timeoutMs: 10_000, intervalMs: 250, what: 'the learned alias to be used' },
    );
    expect(resolved.parse.location.regionNames).toContain(region);
    expect((await search('spanish in zorbland')).parse.location.tier).toBeNull();

    const queue = await api.request('/api/v1/admin/search/aliases?status=pending', { headers: admin });
    expect(queue.status).toBe(200);
    const pending = queue.body.items.find((alias: { phrase: string }) => alias.phrase === 'zorbland');
    expect(pending).toMatchObject({ source: 'learned', status: 'pending', evidence: { searches: 5, clicks: 4, clickShare: 0.75 } });

    const approved = await api.request(`/api/v1/admin/search/aliases/${pending.id}/approve`, {
      method: 'POST',
      headers: admin,
      json: { regionSlugs: [slugOf(queuedRegion)], note: 'matches the clicks' },
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'approved',
      regions: [{ slug: slugOf(queuedRegion), name: queuedRegion }],
      reviewNote: 'matches the clicks',
    });
    const nowResolved = await search('spanish in zorbland');
    expect(nowResolved.parse.location).toMatchObject({ tier: 'alias', regionNames: [queuedRegion] });
    expect(
      (await api.request(`/api/v1/admin/search/aliases/${pending.id}/approve`, { method: 'POST', headers: admin, json: {} })).status,
    ).toBe(409);

    const rejected = await api.request(`/api/v1/admin/search/aliases/${pending.id}/reject`, {
      method: 'POST',
      headers: admin,
      json: { note: 'too vague' },
    });
    expect(rejected.body.status).toBe('rejected');
    expect((await search('spanish in zorbland')).parse.location.tier).toBeNull();
    const audits = await auditRows(api.database, 'search.alias.approve');
    expect(audits.at(-1)).toMatchObject({ resourceType: 'region_alias', resourceId: pending.id, reason: 'matches the clicks' });
    expect((await auditRows(api.database, 'search.alias.reject')).at(-1)).toMatchObject({ resourceId: pending.id, reason: 'too vague' });

    // a rejected phrase is never proposed again
    const rerun = await runJob('search.alias-learning', '2027-03-04T07:30:00Z');
    expect(rerun.learned.map((alias: { phrase: string }) => alias.phrase)).not.toContain('zorbland');
  });
});
