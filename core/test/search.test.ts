import { newId } from '@instainstru/db';
import { seedDemoData } from '@instainstru/db/seed';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEIGHTS } from '../src/search/rank.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { tokenHeaders } from './support/bookings.ts';
import { createUser } from './support/factories.ts';

// Tuesday 2027-03-02, 10:00 in New York. The demo data is seeded for this day.
const NOW = '2027-03-02T15:00:00Z';
const TOMORROW = '2027-03-03';
const ZONE = 'America/New_York';
const clock = fixedClock(NOW);
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ clock, env: { RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' } }) } });
  await seedDemoData(api.database.db, { now: new Date(NOW) });
}, 180_000);
afterAll(async () => {
  await api?.close();
});

type Item = {
  instructor: { id: string; name: string; isFounding: boolean };
  service: { id: string; slug: string; name: string; category: string };
  hourlyRateCents: number;
  durations: number[];
  lessonTypes: string[];
  rating: number | null;
  reviewCount: number;
  distanceKm: number | null;
  nextAvailableAt: string | null;
  neighborhoods: string[];
  score: number;
  signals: Record<string, number> & { founding: boolean };
  unmet: string[];
};

async function search(q: string, params: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const query = new URLSearchParams({ q, ...params });
  const response = await api.request(`/api/v1/search?${query}`, { headers });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as {
    searchId: string;
    items: Item[];
    nextCursor: string | null;
    total: number;
    parse: any;
    relaxed: Array<{ constraint: string; detail: string }>;
    notices: Array<{ code: string; message: string }>;
    reason: { code: string; message: string } | null;
    cached: boolean;
  };
}

function local(iso: string) {
  const at = DateTime.fromISO(iso, { zone: ZONE });
  return { day: at.toISODate() ?? '', minute: at.hour * 60 + at.minute };
}

/** Every result's service is one the query asked for, and the order is (unmet count, score desc). */
function expectWellFormed(items: Item[], serviceSlugs?: string[]) {
  for (const item of items) {
    if (serviceSlugs) expect(serviceSlugs).toContain(item.service.slug);
    const base =
      WEIGHTS.relevance * item.signals.relevance! +
      WEIGHTS.quality * item.signals.quality! +
      WEIGHTS.distance * item.signals.distance! +
      WEIGHTS.priceFit * item.signals.priceFit! +
      WEIGHTS.freshness * item.signals.freshness! +
      WEIGHTS.completeness * item.signals.completeness! +
      WEIGHTS.audienceMatch * item.signals.audienceMatch! +
      WEIGHTS.skillMatch * item.signals.skillMatch!;
    // founding instructors get × 1.5 (spec §4)
    expect(item.score).toBeCloseTo(base * (item.instructor.isFounding ? 1.5 : 1), 3);
  }
  for (let index = 1; index < items.length; index += 1) {
    const before = items[index - 1]!;
    const after = items[index]!;
    expect(before.unmet.length).toBeLessThanOrEqual(after.unmet.length);
    if (before.unmet.length === after.unmet.length) expect(before.score).toBeGreaterThanOrEqual(after.score);
  }
}

/** The start the result advertises really is bookable: public availability (the booking rules) lists it. */
async function expectBookable(item: Item, lessonTypes: string[] = item.lessonTypes) {
  expect(item.nextAvailableAt).not.toBeNull();
  const { day } = local(item.nextAvailableAt!);
  const duration = Math.min(...item.durations);
  for (const type of lessonTypes.filter((lessonType) => item.lessonTypes.includes(lessonType))) {
    const { status, body } = await api.request(
      `/api/v1/public/instructors/${item.instructor.id}/availability?serviceId=${item.service.id}&durationMinutes=${duration}&locationType=${type}&from=${day}&to=${day}`,
    );
    expect(status).toBe(200);
    if (body.slots.some((slot: { startsAt: string }) => slot.startsAt === item.nextAvailableAt)) return;
  }
  throw new Error(`${item.instructor.name} is not bookable at ${item.nextAvailableAt}`);
}

/**
 * Whether a lesson of these types can happen in the named regions (or their neighborhoods):
 * the instructor travels there (service area) or teaches there (studio). Computed here, in SQL,
 * independently of search.
 */
async function covers(instructorId: string, regionNames: string[], lessonTypes: string[]): Promise<boolean> {
  const travels = lessonTypes.some((type) => type === 'student_location' || type === 'neutral_location');
  const studio = lessonTypes.includes('instructor_location');
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from regions r
    where (r.name = any(${regionNames}) or r.parent_id in (select id from regions where name = any(${regionNames})))
      and (
        (${travels}::boolean and r.id in (select region_id from instructor_service_areas where instructor_id = ${instructorId}))
        or (${studio}::boolean and exists (
          select 1 from instructor_profiles p where p.user_id = ${instructorId} and p.studio_location is not null and r.boundary @> p.studio_location))
      )
  `.execute(api.database.db);
  return (rows[0]?.n ?? 0) > 0;
}

const coversItem = (item: Item, regionNames: string[]) => covers(item.instructor.id, regionNames, item.lessonTypes);

/** Live instructors whose offering of a service can take place in a region. */
async function coveringInstructors(serviceSlug: string, regionName: string): Promise<string[]> {
  const { rows } = await sql<{ id: string; locationTypes: string[] }>`
    select o.instructor_id as id, o.location_types from instructor_services o
    join services s on s.id = o.service_id and s.slug = ${serviceSlug}
    join instructor_profiles p on p.user_id = o.instructor_id and p.is_live
    join users u on u.id = o.instructor_id and u.status = 'active'
    where o.deleted_at is null and o.is_active
  `.execute(api.database.db);
  const result: string[] = [];
  for (const row of rows) if (await covers(row.id, [regionName], row.locationTypes)) result.push(row.id);
  return result.sort();
}

describe('GET /api/v1/search over the demo data', () => {
  it('piano lessons in park slope: piano only, Park Slope understood exactly, covering instructors first', async () => {
    const body = await search('piano lessons in park slope', { limit: '100' });
    expect(body.parse.service.matched.map((service: { slug: string }) => service.slug)).toEqual(['piano']);
    expect(body.parse.location).toMatchObject({ phrase: 'park slope', regionNames: ['Park Slope'], tier: 'exact' });
    expectWellFormed(body.items, ['piano']);
    const expected = await coveringInstructors('piano', 'Park Slope');
    const meeting = body.items.filter((item) => item.unmet.length === 0).map((item) => item.instructor.id);
    expect(meeting.sort()).toEqual(expected);
    if (expected.length >= 5) {
      expect(body.relaxed).toEqual([]);
    } else {
      // too few cover Park Slope: the location was relaxed and said so; the others are flagged
      expect(body.relaxed.map((entry) => entry.constraint)).toEqual(['location']);
      expect(body.relaxed[0]?.detail).toContain('Park Slope');
      expect(body.items.length).toBeGreaterThanOrEqual(5);
      for (const item of body.items.filter((entry) => !expected.includes(entry.instructor.id))) expect(item.unmet).toEqual(['location']);
    }
    for (const item of body.items) expect(item.distanceKm).not.toBeNull();
  });

  it('cheap spanish tutor online tomorrow evening: online Spanish under the budget, really free tomorrow 17:00–21:00', async () => {
    const body = await search('cheap spanish tutor online tomorrow evening');
    expect(body.parse).toMatchObject({
      date: TOMORROW,
      timeWindow: { start: '17:00', end: '21:00' },
      lessonType: 'online',
      priceIntent: 'budget',
      location: null,
    });
    const cap = body.parse.maxPriceCents as number;
    expect(cap).toBeGreaterThan(0);
    expectWellFormed(body.items, ['spanish']);
    expect(body.items.length).toBeGreaterThan(0);
    const full = body.items.filter((item) => item.unmet.length === 0);
    expect(full.length).toBeGreaterThan(0);
    for (const item of body.items) {
      expect(item.lessonTypes).toContain('online');
      expect(item.distanceKm).toBeNull();
      if (!item.unmet.includes('price')) expect(item.hourlyRateCents).toBeLessThanOrEqual(cap);
    }
    for (const item of full) {
      const at = local(item.nextAvailableAt!);
      expect(at.day).toBe(TOMORROW);
      expect(at.minute).toBeGreaterThanOrEqual(17 * 60);
      expect(at.minute).toBeLessThan(21 * 60);
      await expectBookable(item, ['online']);
    }
    // relaxations come in the spec's order and are explained
    const order = ['time', 'date', 'skill', 'audience', 'location', 'price'];
    const relaxed = body.relaxed.map((entry) => entry.constraint);
    expect([...relaxed].sort((a, b) => order.indexOf(a) - order.indexOf(b))).toEqual(relaxed);
    for (const entry of body.relaxed) expect(entry.detail.length).toBeGreaterThan(10);
    // some instructors were free in the window, so the explanation must not claim nobody was
    const timeRelaxed = body.relaxed.find((entry) => entry.constraint === 'time');
    if (timeRelaxed) expect(timeRelaxed.detail).toMatch(/^Only \d+ instructors? (was|were) free 17:00–21:00/);
  });

  it('swimming for my 6 year old near me: the signed-in student’s saved address decides the area', async () => {
    const bedStuy = await api.database.db
      .selectFrom('regions')
      .where('slug', '=', 'bedford-stuyvesant')
      .select(['id', 'centroid'])
      .executeTakeFirstOrThrow();
    const studentId = await createUser(api.database, { roles: ['student'] });
    await api.database.db
      .insertInto('userAddresses')
      .values({
        id: newId(),
        userId: studentId,
        line1: '301 Tompkins Ave',
        postalCode: '11216',
        city: 'Brooklyn',
        location: sql`point(${bedStuy.centroid.x}, ${bedStuy.centroid.y})`,
        regionId: bedStuy.id,
        isDefault: true,
      })
      .execute();
    const body = await search('swimming for my 6 year old near me', {}, tokenHeaders(api, studentId, ['student']));
    expect(body.parse).toMatchObject({
      audience: 'kids',
      age: 6,
      location: { nearMe: true, tier: 'near_me', regionNames: ['Bedford-Stuyvesant'] },
    });
    expect(body.notices).toEqual([]);
    expectWellFormed(body.items, ['swimming']);
    const full = body.items.filter((item) => item.unmet.length === 0);
    expect(full.length).toBeGreaterThan(0);
    for (const item of full) expect(await coversItem(item, ['Bedford-Stuyvesant'])).toBe(true);
    for (const item of body.items) {
      expect(item.distanceKm).not.toBeNull();
      expect(item.signals.audienceMatch === 1 || item.unmet.includes('audience')).toBe(true);
    }

    // the same words anonymously: no area, and the answer says why
    const anonymous = await search('swimming for my 6 year old near me');
    expect(anonymous.notices.map((notice) => notice.code)).toEqual(['near_me_requires_sign_in']);
    expect(anonymous.parse.location).toMatchObject({ nearMe: true, regionIds: [] });
    expect(anonymous.items.every((item) => item.distanceKm === null)).toBe(true);
  });

  it('understands NYC shorthand: aliases (ambiguous ones too) and boroughs expanded to their neighborhoods', async () => {
    const ues = await search('math tutor on the ues');
    expect(ues.parse.location).toMatchObject({ phrase: 'ues', tier: 'alias', regionNames: ['Upper East Side'] });
    for (const item of ues.items.filter((entry) => entry.unmet.length === 0))
      expect(await coversItem(item, ['Upper East Side'])).toBe(true);

    const bedStuy = await search('yoga in bed stuy');
    expect(bedStuy.parse.location).toMatchObject({ tier: 'alias', regionNames: ['Bedford-Stuyvesant'] });
    const lic = await search('french in lic');
    expect(lic.parse.location).toMatchObject({ tier: 'alias', regionNames: ['Long Island City'] });

    const uptown = await search('piano uptown');
    expect(uptown.parse.location.tier).toBe('alias');
    expect(uptown.parse.location.regionNames).toEqual(expect.arrayContaining(['Upper West Side', 'Upper East Side', 'Harlem', 'Inwood']));
    const uptownNames = uptown.parse.location.regionNames as string[];
    for (const item of uptown.items.filter((entry) => entry.unmet.length === 0)) expect(await coversItem(item, uptownNames)).toBe(true);

    const brooklyn = await search('guitar lessons in brooklyn');
    expect(brooklyn.parse.location).toMatchObject({ tier: 'exact', regionNames: ['Brooklyn'] });
    expect(brooklyn.items.length).toBeGreaterThanOrEqual(5);
    expect(brooklyn.relaxed).toEqual([]);
    for (const item of brooklyn.items) expect(await coversItem(item, ['Brooklyn'])).toBe(true);
    expectWellFormed(brooklyn.items, ['guitar']);
  });

  it('tolerates misspellings of services and places', async () => {
    const piano = await search('paino lessons');
    expect(piano.parse.service.matched.map((service: { slug: string }) => service.slug)).toEqual(['piano']);
    expect(piano.items.length).toBeGreaterThanOrEqual(5);
    expectWellFormed(piano.items, ['piano']);

    const uws = await search('guitar in upper west sid');
    expect(uws.parse.location.regionNames).toEqual(['Upper West Side']);
    for (const item of uws.items.filter((entry) => entry.unmet.length === 0))
      expect(await coversItem(item, ['Upper West Side'])).toBe(true);
  });

  it('applies price caps, price words, skill, lesson type and categories', async () => {
    const sat = await search('sat prep under $150');
    expect(sat.parse.maxPriceCents).toBe(15_000);
    expectWellFormed(sat.items, ['sat-prep']);
    for (const item of sat.items) if (!item.unmet.includes('price')) expect(item.hourlyRateCents).toBeLessThanOrEqual(15_000);
    const cheapest = sat.items.filter((item) => item.unmet.length === 0).map((item) => item.signals.priceFit);
    expect(cheapest.every((fit) => fit! >= 0.7)).toBe(true);

    const premium = await search('premium piano');
    expect(premium.parse.minPriceCents).toBeGreaterThan(0);
    for (const item of premium.items)
      if (!item.unmet.includes('price')) expect(item.hourlyRateCents).toBeGreaterThanOrEqual(premium.parse.minPriceCents);

    const violin = await search('violin for beginners');
    expect(violin.parse.skill).toBe('beginner');
    for (const item of violin.items) expect(item.signals.skillMatch === 1 || item.unmet.includes('skill')).toBe(true);

    const drums = await search('drums at your studio');
    expect(drums.parse.lessonType).toBe('instructor_location');
    expect(drums.items.length).toBeGreaterThan(0);
    for (const item of drums.items) expect(item.lessonTypes).toContain('instructor_location');

    const music = await search('music lessons');
    expect(music.parse.service.category).toBe('Music');
    expect(new Set(music.items.map((item) => item.service.category))).toEqual(new Set(['Music']));
    expect(music.total).toBeGreaterThan(20);
  });

  it('finds instructors who are free on the asked day and hour', async () => {
    const weekend = await search('spanish for teens this weekend');
    expect(weekend.parse).toMatchObject({ date: '2027-03-06', dateEnd: '2027-03-07', audience: 'teens' });
    const full = weekend.items.filter((item) => item.unmet.length === 0);
    expect(full.length).toBeGreaterThan(0);
    for (const item of full) {
      expect(['2027-03-06', '2027-03-07']).toContain(local(item.nextAvailableAt!).day);
      await expectBookable(item);
    }

    const tennis = await search('tennis coach tomorrow at 6pm');
    expect(tennis.parse.timeWindow).toEqual({ start: '18:00', end: '19:00' });
    for (const item of tennis.items) {
      if (item.unmet.includes('time') || item.unmet.includes('date')) continue;
      const at = local(item.nextAvailableAt!);
      expect(at).toMatchObject({ day: TOMORROW });
      expect(at.minute).toBeGreaterThanOrEqual(18 * 60);
      expect(at.minute).toBeLessThan(19 * 60);
    }
    // nobody who misses the hour is reported as meeting it
    const relaxedTime = tennis.relaxed.some((entry) => entry.constraint === 'time');
    if (!relaxedTime) expect(tennis.items.every((item) => item.unmet.length === 0)).toBe(true);
  });

  it('lets structured filters override what the text says', async () => {
    const body = await search('piano lessons in park slope', {
      maxPriceCents: '10000',
      region: 'upper-west-side',
      lessonType: 'in_person',
    });
    expect(body.parse.overridden).toEqual(expect.arrayContaining(['maxPriceCents', 'region', 'lessonType']));
    expect(body.parse).toMatchObject({
      maxPriceCents: 10_000,
      lessonType: 'in_person',
      location: { tier: 'filter', regionNames: ['Upper West Side'] },
    });
    for (const item of body.items) {
      if (!item.unmet.includes('price')) expect(item.hourlyRateCents).toBeLessThanOrEqual(10_000);
      expect(item.lessonTypes.some((type) => type !== 'online')).toBe(true);
    }
    const time = await search('guitar', { date: TOMORROW, timeStart: '09:00', timeEnd: '12:00' });
    expect(time.parse).toMatchObject({ date: TOMORROW, timeWindow: { start: '09:00', end: '12:00' } });
    for (const item of time.items.filter((entry) => entry.unmet.length === 0)) {
      const at = local(item.nextAvailableAt!);
      expect(at.day).toBe(TOMORROW);
      expect(at.minute).toBeGreaterThanOrEqual(9 * 60);
      expect(at.minute).toBeLessThan(12 * 60);
    }
    const unknownRegion = await api.request('/api/v1/search?q=piano&region=atlantis');
    expect(unknownRegion.status).toBe(422);
    expect(unknownRegion.body).toMatchObject({ code: 'validation_error', field: 'region' });
  });

  it('sorts by price or rating and pages with a cursor', async () => {
    const byPrice = await search('music lessons', { sort: 'price', limit: '100' });
    const prices = byPrice.items.map((item) => item.hourlyRateCents);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));

    const byRating = await search('music lessons', { sort: 'rating', limit: '100' });
    const ratings = byRating.items.map((item) => item.rating);
    const firstNull = ratings.indexOf(null);
    expect(firstNull).toBeGreaterThan(0);
    expect(ratings.slice(firstNull).every((rating) => rating === null)).toBe(true);
    const rated = ratings.slice(0, firstNull) as number[];
    expect(rated).toEqual([...rated].sort((a, b) => b - a));

    const all = await search('music lessons', { limit: '100' });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof search>> = await search('music lessons', { limit: '7', ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.map((item) => item.instructor.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.items.map((item) => item.instructor.id));
    expect(new Set(seen).size).toBe(seen.length);
    expect(all.total).toBe(seen.length);
  });

  it('boosts founding instructors × 1.5 and ranks them above equals', async () => {
    const body = await search('music lessons', { limit: '100' });
    const founding = body.items.filter((item) => item.instructor.isFounding);
    const others = body.items.filter((item) => !item.instructor.isFounding);
    expect(founding.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);
    // the best-ranked founding instructor beats every other with no better signals than theirs
    const topFounding = founding[0]!;
    for (const other of others) {
      if (other.score <= topFounding.score / 1.5) expect(body.items.indexOf(other)).toBeGreaterThan(body.items.indexOf(topFounding));
    }
    expect(body.items[0]?.instructor.isFounding).toBe(true);
  });

  it('answers empty, vague and nonsense queries with a reason, and long ones with 422', async () => {
    const empty = await search('');
    expect(empty.items).toEqual([]);
    expect(empty.reason?.code).toBe('empty_query');

    const nonsense = await search('asdkjh qwe');
    expect(nonsense.items).toEqual([]);
    expect(nonsense.reason?.code).toBe('no_service_match');
    expect(nonsense.reason?.message).toContain('asdkjh');

    const punctuation = await search('!!! ???');
    expect(punctuation.items).toEqual([]);
    expect(punctuation.reason?.code).toBe('not_understood');

    const unknownPlace = await search('piano in slopeville');
    expect(unknownPlace.notices.map((notice) => notice.code)).toEqual(['location_not_found']);
    expect(unknownPlace.parse.location).toMatchObject({ phrase: 'slopeville', tier: null });
    expect(unknownPlace.items.length).toBeGreaterThan(0);

    const long = await api.request(`/api/v1/search?q=${'piano '.repeat(60)}`);
    expect(long.status).toBe(422);
    expect(long.body).toMatchObject({ code: 'validation_error', field: 'q' });

    const badCursor = await api.request('/api/v1/search?q=piano&cursor=nonsense');
    expect(badCursor.status).toBe(422);
    expect(badCursor.body.field).toBe('cursor');
  });

  it('browses everything in an area when only a place and a day are given', async () => {
    const body = await search('tomorrow in park slope');
    expect(body.parse.service.matched).toEqual([]);
    expect(body.items.length).toBeGreaterThanOrEqual(5);
    expect(new Set(body.items.map((item) => item.service.slug)).size).toBeGreaterThan(1);
    for (const item of body.items.filter((entry) => entry.unmet.length === 0)) {
      expect(local(item.nextAvailableAt!).day).toBe(TOMORROW);
      expect(await coversItem(item, ['Park Slope'])).toBe(true);
    }
  });
});
