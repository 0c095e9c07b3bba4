import { truncateAll } from '@instainstru/db/testing';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows, loginAs, NO_RATE_LIMITS_ENV, type SignedIn } from './support/auth.ts';
import { addInstructorProfile, createCatalogService } from './support/factories.ts';

// Wednesday 2027-03-03 10:00 in New York (EST). This week's Monday and Tuesday are past.
const clock = fixedClock('2027-03-03T15:00:00Z');
const THIS_WEEK = '2027-03-01';
const NEXT_WEEK = '2027-03-08'; // Sunday 2027-03-14 is the spring-forward day
const LATER_WEEK = '2027-03-15';

let api: TestApi;
let instructor: SignedIn;
let serviceId: string;

beforeAll(async () => {
  api = await startTestApi({ clock, env: { ...NO_RATE_LIMITS_ENV, AVAILABILITY_CACHE_TTL_SECONDS: '600' } });
});
afterAll(async () => {
  await api?.close();
});

beforeEach(async () => {
  await truncateAll(api.database);
  serviceId = await createCatalogService(api.database, { name: 'Piano' });
  instructor = await loginAs(api, 'instructor');
  await addInstructorProfile(api.database, instructor.userId, { serviceId });
});

const weekPath = (weekStart: string) => `/api/v1/instructors/me/availability/weeks/${weekStart}`;
const range = (start: string, end: string) => ({ start, end });

async function getWeek(weekStart: string, who: SignedIn = instructor) {
  return api.request(weekPath(weekStart), { headers: who.headers });
}

async function saveWeek(weekStart: string, ifMatch: string | undefined, days: unknown[], who: SignedIn = instructor) {
  return api.request(weekPath(weekStart), {
    method: 'PUT',
    headers: { ...who.headers, ...(ifMatch === undefined ? {} : { 'if-match': ifMatch }) },
    json: { days },
  });
}

async function storedRows(instructorId = instructor.userId) {
  return api.database.db
    .selectFrom('availabilityDays')
    .where('instructorId', '=', instructorId)
    .select(['day', 'bits', 'updatedAt'])
    .orderBy('day')
    .execute();
}

/** Local HH:MM of the public slots on one day (30-minute online lessons). */
async function publicStarts(day: string, instructorId = instructor.userId): Promise<string[]> {
  const { status, body } = await api.request(
    `/api/v1/public/instructors/${instructorId}/availability?serviceId=${serviceId}&durationMinutes=30&locationType=online&from=${day}&to=${day}`,
  );
  expect(status).toBe(200);
  return body.slots.map((slot: { startsAt: string }) => DateTime.fromISO(slot.startsAt, { zone: 'America/New_York' }).toFormat('HH:mm'));
}

const rangesOf = (body: { days: Array<{ day: string; ranges: unknown[] }> }, day: string) =>
  body.days.find((entry) => entry.day === day)?.ranges;

describe('week get and save', () => {
  it('reads an empty week with an ETag, saves it with If-Match and reads back the same ranges and ETag', async () => {
    const empty = await getWeek(NEXT_WEEK);
    expect(empty.status).toBe(200);
    expect(empty.body.weekStart).toBe(NEXT_WEEK);
    expect(empty.body.days.map((day: { day: string }) => day.day)).toEqual([
      '2027-03-08',
      '2027-03-09',
      '2027-03-10',
      '2027-03-11',
      '2027-03-12',
      '2027-03-13',
      '2027-03-14',
    ]);
    expect(empty.body.days.every((day: { ranges: unknown[] }) => day.ranges.length === 0)).toBe(true);
    expect(empty.headers.get('etag')).toBe(empty.body.etag);
    expect(empty.headers.get('last-modified')).toBeNull();
    expect(empty.body.lastModifiedAt).toBeNull();

    const saved = await saveWeek(NEXT_WEEK, empty.body.etag, [
      { day: '2027-03-09', ranges: [range('13:00', '15:00'), range('09:00', '10:30'), range('10:00', '11:00')] },
      { day: '2027-03-12', ranges: [range('07:13', '08:47'), range('22:00', '24:00')] },
    ]);
    expect(saved.status).toBe(200);
    expect(saved.body.changedDays).toEqual(['2027-03-09', '2027-03-12']);
    expect(saved.body.etag).not.toBe(empty.body.etag);
    expect(saved.headers.get('etag')).toBe(saved.body.etag);
    expect(rangesOf(saved.body, '2027-03-09')).toEqual([range('09:00', '11:00'), range('13:00', '15:00')]);

    const read = await getWeek(NEXT_WEEK);
    expect(read.body.etag).toBe(saved.body.etag);
    expect(read.body.days).toEqual(saved.body.days);
    expect(rangesOf(read.body, '2027-03-12')).toEqual([range('07:13', '08:47'), range('22:00', '24:00')]);
    const lastModified = read.headers.get('last-modified');
    expect(lastModified).not.toBeNull();
    expect(new Date(lastModified ?? '').getTime()).toBe(Math.floor(new Date(read.body.lastModifiedAt).getTime() / 1000) * 1000);
    expect(await storedRows()).toHaveLength(2);
  });

  it('requires If-Match, answers 409 to a stale one and writes nothing', async () => {
    const first = await getWeek(NEXT_WEEK);
    const missing = await saveWeek(NEXT_WEEK, undefined, [{ day: '2027-03-09', ranges: [range('09:00', '10:00')] }]);
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ code: 'validation_error', field: 'If-Match' });

    const saved = await saveWeek(NEXT_WEEK, first.body.etag, [{ day: '2027-03-09', ranges: [range('09:00', '10:00')] }]);
    expect(saved.status).toBe(200);
    const rowsBefore = await storedRows();
    const auditBefore = await auditRows(api.database, 'availability.week.save');

    const stale = await saveWeek(NEXT_WEEK, first.body.etag, [
      { day: '2027-03-09', ranges: [range('18:00', '19:00')] },
      { day: '2027-03-10', ranges: [range('18:00', '19:00')] },
    ]);
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: 'stale_version', field: 'If-Match' });
    expect(await storedRows()).toEqual(rowsBefore);
    expect(await auditRows(api.database, 'availability.week.save')).toHaveLength(auditBefore.length);
    expect((await getWeek(NEXT_WEEK)).body.etag).toBe(saved.body.etag);

    const weak = await saveWeek(NEXT_WEEK, `W/${saved.body.etag}`, [{ day: '2027-03-10', ranges: [] }]);
    expect(weak.status).toBe(409);
  });

  it('lets exactly one of several concurrent saves from the same version win', async () => {
    const { body } = await getWeek(NEXT_WEEK);
    const attempts = Array.from({ length: 8 }, (_, index) =>
      saveWeek(NEXT_WEEK, body.etag, [{ day: '2027-03-10', ranges: [range(`${String(8 + index).padStart(2, '0')}:00`, '20:00')] }]),
    );
    const results = await Promise.all(attempts);
    const statuses = results.map((result) => result.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    const winner = results.find((result) => result.status === 200);
    const now = await getWeek(NEXT_WEEK);
    expect(now.body.etag).toBe(winner?.body.etag);
    expect(rangesOf(now.body, '2027-03-10')).toEqual(rangesOf(winner?.body, '2027-03-10'));
    expect(await auditRows(api.database, 'availability.week.save')).toHaveLength(1);
  });

  it('writes only the days that changed, and audits them as ranges before and after', async () => {
    const first = await saveWeek(NEXT_WEEK, (await getWeek(NEXT_WEEK)).body.etag, [
      { day: '2027-03-10', ranges: [range('09:00', '12:00')] },
      { day: '2027-03-11', ranges: [range('09:00', '12:00')] },
    ]);
    const [wednesday, thursday] = await storedRows();
    await new Promise((resolve) => setTimeout(resolve, 20));

    const second = await saveWeek(NEXT_WEEK, first.body.etag, [
      { day: '2027-03-10', ranges: [range('09:00', '12:00'), range('14:00', '16:00')] },
      { day: '2027-03-11', ranges: [range('09:00', '10:00'), range('10:00', '12:00')] }, // same minutes, written differently
      { day: '2027-03-12', ranges: [] }, // closed before, closed now
    ]);
    expect(second.status).toBe(200);
    expect(second.body.changedDays).toEqual(['2027-03-10']);
    const after = await storedRows();
    expect(after).toHaveLength(2);
    expect(after[0]?.updatedAt.getTime()).toBeGreaterThan(wednesday?.updatedAt.getTime() ?? Infinity);
    expect(after[1]).toEqual(thursday);

    const audits = await auditRows(api.database, 'availability.week.save');
    expect(audits).toHaveLength(2);
    expect(audits[1]).toMatchObject({
      actorType: 'user',
      actorId: instructor.userId,
      resourceType: 'instructor_availability',
      resourceId: instructor.userId,
      before: { '2027-03-10': [range('09:00', '12:00')] },
      after: { '2027-03-10': [range('09:00', '12:00'), range('14:00', '16:00')] },
    });
    expect(audits[1]?.metadata).toMatchObject({ weekStart: NEXT_WEEK, changedDays: ['2027-03-10'], etagBefore: first.body.etag });
  });

  it('rejects malformed weeks and ranges with the field at fault', async () => {
    const { body } = await getWeek(NEXT_WEEK);
    const cases: Array<[string, unknown[], string]> = [
      [NEXT_WEEK, [{ day: '2027-03-09', ranges: [range('10:00', '09:00')] }], 'days.0.ranges.0.end'],
      [
        NEXT_WEEK,
        [
          { day: '2027-03-09', ranges: [] },
          { day: '2027-03-10', ranges: [range('10:00', '10:00')] },
        ],
        'days.1.ranges.0.end',
      ],
      [NEXT_WEEK, [{ day: '2027-03-09', ranges: [range('10:00', '25:00')] }], 'days.0.ranges.0.end'],
      [NEXT_WEEK, [{ day: '2027-03-09', ranges: [range('10:00:30', '11:00')] }], 'days.0.ranges.0.start'],
      [NEXT_WEEK, [{ day: '2027-03-15', ranges: [] }], 'days.0.day'],
      [
        NEXT_WEEK,
        [
          { day: '2027-03-09', ranges: [] },
          { day: '2027-03-09', ranges: [] },
        ],
        'days.1.day',
      ],
      ['2027-03-09', [], 'weekStart'],
    ];
    for (const [weekStart, days, field] of cases) {
      const result = await saveWeek(weekStart, body.etag, days);
      expect({ field: result.body.field, status: result.status }).toEqual({ field, status: 422 });
    }
    expect((await getWeek('2027-03-10')).body).toMatchObject({ code: 'validation_error', field: 'weekStart' });
    expect(await storedRows()).toHaveLength(0);
  });

  it('refuses to change a past day but accepts a whole week that leaves past days as they were', async () => {
    const { body } = await getWeek(THIS_WEEK);
    const past = await saveWeek(THIS_WEEK, body.etag, [{ day: '2027-03-02', ranges: [range('09:00', '10:00')] }]);
    expect(past.status).toBe(422);
    expect(past.body.field).toBe('days.0');
    const whole = await saveWeek(
      THIS_WEEK,
      body.etag,
      body.days.map((day: { day: string }) => ({ day: day.day, ranges: day.day >= '2027-03-03' ? [range('12:00', '13:00')] : [] })),
    );
    expect(whole.status).toBe(200);
    expect(whole.body.changedDays).toEqual(['2027-03-03', '2027-03-04', '2027-03-05', '2027-03-06', '2027-03-07']);
  });

  it('answers 404 to an instructor without a profile, 403 to a student and 401 to nobody', async () => {
    const student = await loginAs(api, 'student');
    expect((await getWeek(NEXT_WEEK, student)).status).toBe(403);
    const forbidden = await saveWeek(NEXT_WEEK, '"x"', [], student);
    expect(forbidden.status).toBe(403);
    expect((await api.request('/api/v1/instructors/me/blackouts', { headers: student.headers })).status).toBe(403);
    expect((await api.request(weekPath(NEXT_WEEK))).status).toBe(401);
    const newcomer = await loginAs(api, 'instructor');
    expect((await getWeek(NEXT_WEEK, newcomer)).status).toBe(404);
    expect(await auditRows(api.database, 'rbac.denied')).not.toHaveLength(0);
  });

  it('never touches another instructor’s days', async () => {
    const other = await loginAs(api, 'instructor');
    await addInstructorProfile(api.database, other.userId, { serviceId });
    const otherSaved = await saveWeek(
      NEXT_WEEK,
      (await getWeek(NEXT_WEEK, other)).body.etag,
      [{ day: '2027-03-09', ranges: [range('08:00', '09:00')] }],
      other,
    );
    const otherRows = await storedRows(other.userId);

    const mine = await getWeek(NEXT_WEEK);
    expect(mine.body.days.every((day: { ranges: unknown[] }) => day.ranges.length === 0)).toBe(true);
    await saveWeek(NEXT_WEEK, mine.body.etag, [{ day: '2027-03-09', ranges: [range('10:00', '11:00')] }]);
    await api.request(`${weekPath(NEXT_WEEK)}/copy`, { method: 'POST', headers: instructor.headers, json: { toWeekStart: LATER_WEEK } });
    await api.request(`${weekPath(NEXT_WEEK)}/clear`, { method: 'POST', headers: instructor.headers });
    await api.request('/api/v1/instructors/me/blackouts', { method: 'POST', headers: instructor.headers, json: { day: '2027-03-09' } });

    expect(await storedRows(other.userId)).toEqual(otherRows);
    expect((await getWeek(NEXT_WEEK, other)).body).toMatchObject({ etag: otherSaved.body.etag, blackouts: [] });
  });
});

describe('week-wide operations', () => {
  async function seedNextWeek() {
    const { body } = await getWeek(NEXT_WEEK);
    return saveWeek(NEXT_WEEK, body.etag, [
      { day: '2027-03-08', ranges: [range('09:00', '12:00')] },
      { day: '2027-03-10', ranges: [range('14:00', '18:00')] },
    ]);
  }

  it('copies a week onto another, day by day, writing only differences', async () => {
    await seedNextWeek();
    const copy = await api.request(`${weekPath(NEXT_WEEK)}/copy`, {
      method: 'POST',
      headers: instructor.headers,
      json: { toWeekStart: LATER_WEEK },
    });
    expect(copy.status).toBe(200);
    expect(copy.body.weekStart).toBe(LATER_WEEK);
    expect(copy.body.changedDays).toEqual(['2027-03-15', '2027-03-17']);
    expect(rangesOf(copy.body, '2027-03-15')).toEqual([range('09:00', '12:00')]);
    expect(rangesOf(copy.body, '2027-03-17')).toEqual([range('14:00', '18:00')]);
    expect(copy.headers.get('etag')).toBe((await getWeek(NEXT_WEEK)).body.etag); // same bitmaps, same hash

    const again = await api.request(`${weekPath(NEXT_WEEK)}/copy`, {
      method: 'POST',
      headers: instructor.headers,
      json: { toWeekStart: LATER_WEEK },
    });
    expect(again.body.changedDays).toEqual([]);
    const audits = await auditRows(api.database, 'availability.week.copy');
    expect(audits).toHaveLength(2);
    expect(audits[0]?.metadata).toMatchObject({ fromWeekStart: NEXT_WEEK, weekStart: LATER_WEEK });

    const self = await api.request(`${weekPath(NEXT_WEEK)}/copy`, {
      method: 'POST',
      headers: instructor.headers,
      json: { toWeekStart: NEXT_WEEK },
    });
    expect(self.body).toMatchObject({ code: 'validation_error', field: 'toWeekStart' });
    const stale = await api.request(`${weekPath(NEXT_WEEK)}/copy`, {
      method: 'POST',
      headers: { ...instructor.headers, 'if-match': '"not-the-etag"' },
      json: { toWeekStart: '2027-03-22' },
    });
    expect(stale.status).toBe(409);
    expect(await storedRows()).toHaveLength(4);
  });

  it('copies into the current week without touching its past days', async () => {
    await seedNextWeek();
    const copy = await api.request(`${weekPath(NEXT_WEEK)}/copy`, {
      method: 'POST',
      headers: instructor.headers,
      json: { toWeekStart: THIS_WEEK },
    });
    expect(copy.status).toBe(200);
    expect(copy.body.skippedPastDays).toEqual(['2027-03-01']);
    expect(copy.body.changedDays).toEqual(['2027-03-03']);
    const over = await api.request(`${weekPath(NEXT_WEEK)}/copy`, {
      method: 'POST',
      headers: instructor.headers,
      json: { toWeekStart: '2027-02-22' },
    });
    expect(over.body).toMatchObject({ code: 'validation_error', field: 'toWeekStart' });
  });

  it('clears a week from today on and reports the past days it left', async () => {
    await api.database.db
      .insertInto('availabilityDays')
      .values(['2027-03-01', '2027-03-04'].map((day) => ({ instructorId: instructor.userId, day, bits: Buffer.alloc(180, 0xff) })))
      .execute();
    const cleared = await api.request(`${weekPath(THIS_WEEK)}/clear`, { method: 'POST', headers: instructor.headers });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ changedDays: ['2027-03-04'], skippedPastDays: ['2027-03-01'] });
    expect(rangesOf(cleared.body, '2027-03-01')).toEqual([range('00:00', '24:00')]);
    expect(rangesOf(cleared.body, '2027-03-04')).toEqual([]);
    expect(await auditRows(api.database, 'availability.week.clear')).toHaveLength(1);
  });

  it('lists presets and replaces a week with one', async () => {
    const presets = await api.request('/api/v1/availability/presets');
    expect(presets.status).toBe(200);
    expect(presets.body.items.map((preset: { id: string }) => preset.id)).toEqual(['weekdays_9_to_5', 'evenings', 'weekends']);
    expect(presets.body.items[1].pattern.mon).toEqual([range('17:00', '21:00')]);

    await seedNextWeek();
    const weekends = await api.request(`${weekPath(NEXT_WEEK)}/apply-preset`, {
      method: 'POST',
      headers: instructor.headers,
      json: { preset: 'weekends' },
    });
    expect(weekends.status).toBe(200);
    expect(weekends.body.days.map((day: { ranges: unknown[] }) => day.ranges)).toEqual([
      [],
      [],
      [],
      [],
      [],
      [range('09:00', '17:00')],
      [range('09:00', '17:00')],
    ]);
    expect(weekends.body.changedDays).toEqual(['2027-03-08', '2027-03-10', '2027-03-13', '2027-03-14']);

    const weekdays = await api.request(`${weekPath(LATER_WEEK)}/apply-preset`, {
      method: 'POST',
      headers: instructor.headers,
      json: { preset: 'weekdays_9_to_5' },
    });
    expect(
      weekdays.body.days
        .slice(0, 5)
        .every((day: { ranges: unknown[] }) => JSON.stringify(day.ranges) === JSON.stringify([range('09:00', '17:00')])),
    ).toBe(true);
    const unknown = await api.request(`${weekPath(LATER_WEEK)}/apply-preset`, {
      method: 'POST',
      headers: instructor.headers,
      json: { preset: 'nights' },
    });
    expect(unknown.body).toMatchObject({ code: 'validation_error', field: 'preset' });
    expect(await auditRows(api.database, 'availability.preset.apply')).toHaveLength(2);
  });

  it('applies a weekly pattern to a date range, refusing past days and ranges over 365 days', async () => {
    const pattern = { mon: [range('09:00', '12:00')], tue: [], wed: [range('18:00', '20:00')], thu: [], fri: [], sat: [], sun: [] };
    const path = '/api/v1/instructors/me/availability/apply-pattern';
    const applied = await api.request(path, {
      method: 'POST',
      headers: instructor.headers,
      json: { from: '2027-03-03', to: '2027-03-31', pattern },
    });
    expect(applied.status).toBe(200);
    expect(applied.body.changedDays).toEqual([
      '2027-03-03',
      '2027-03-08',
      '2027-03-10',
      '2027-03-15',
      '2027-03-17',
      '2027-03-22',
      '2027-03-24',
      '2027-03-29',
      '2027-03-31',
    ]);
    expect(rangesOf((await getWeek(LATER_WEEK)).body, '2027-03-17')).toEqual([range('18:00', '20:00')]);
    const again = await api.request(path, {
      method: 'POST',
      headers: instructor.headers,
      json: { from: '2027-03-03', to: '2027-03-31', pattern },
    });
    expect(again.body.changedDays).toEqual([]);
    const audits = await auditRows(api.database, 'availability.pattern.apply');
    expect(audits).toHaveLength(2);
    expect(Object.keys(audits[0]?.after as object)).toHaveLength(9);

    const past = await api.request(path, {
      method: 'POST',
      headers: instructor.headers,
      json: { from: '2027-03-02', to: '2027-03-31', pattern },
    });
    expect(past.body).toMatchObject({ code: 'validation_error', field: 'from' });
    const tooLong = await api.request(path, {
      method: 'POST',
      headers: instructor.headers,
      json: { from: '2027-03-03', to: '2028-03-02', pattern },
    });
    expect(tooLong.body).toMatchObject({ code: 'validation_error', field: 'to' });
    const year = await api.request(path, {
      method: 'POST',
      headers: instructor.headers,
      json: { from: '2027-03-03', to: '2028-03-01', pattern },
    });
    expect(year.status).toBe(200);
    const missingDay = await api.request(path, {
      method: 'POST',
      headers: instructor.headers,
      json: { from: '2027-03-03', to: '2027-03-04', pattern: { mon: [] } },
    });
    expect(missingDay.status).toBe(422);
    const badRange = await api.request(path, {
      method: 'POST',
      headers: instructor.headers,
      json: { from: '2027-03-03', to: '2027-03-04', pattern: { ...pattern, thu: [range('10:00', '09:00')] } },
    });
    expect(badRange.body).toMatchObject({ code: 'validation_error', field: 'pattern.thu.0.end' });
  });
});

describe('what the public sees', () => {
  it('sees a save at once (the cache is invalidated) and nothing on a blackout day', async () => {
    expect(await publicStarts('2027-03-10')).toEqual([]); // cached for 10 minutes unless invalidated
    const { body } = await getWeek(NEXT_WEEK);
    await saveWeek(NEXT_WEEK, body.etag, [{ day: '2027-03-10', ranges: [range('09:00', '10:00')] }]);
    expect(await publicStarts('2027-03-10')).toEqual(['09:00', '09:15', '09:30']);

    const blackoutsPath = '/api/v1/instructors/me/blackouts';
    const added = await api.request(blackoutsPath, {
      method: 'POST',
      headers: instructor.headers,
      json: { day: '2027-03-10', reason: 'recital' },
    });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ day: '2027-03-10', reason: 'recital' });
    expect(await publicStarts('2027-03-10')).toEqual([]);
    expect((await getWeek(NEXT_WEEK)).body).toMatchObject({
      blackouts: [{ day: '2027-03-10', reason: 'recital' }],
      etag: expect.any(String),
    });
    expect(rangesOf((await getWeek(NEXT_WEEK)).body, '2027-03-10')).toEqual([range('09:00', '10:00')]);

    const duplicate = await api.request(blackoutsPath, { method: 'POST', headers: instructor.headers, json: { day: '2027-03-10' } });
    expect(duplicate.body).toMatchObject({ code: 'already_exists', field: 'day' });
    const past = await api.request(blackoutsPath, { method: 'POST', headers: instructor.headers, json: { day: '2027-03-02' } });
    expect(past.body).toMatchObject({ code: 'validation_error', field: 'day' });
    const listed = await api.request(blackoutsPath, { headers: instructor.headers });
    expect(listed.body).toEqual({ from: '2027-03-03', to: '2028-03-02', items: [{ day: '2027-03-10', reason: 'recital' }] });

    const removed = await api.request(`${blackoutsPath}/2027-03-10`, { method: 'DELETE', headers: instructor.headers });
    expect(removed.status).toBe(204);
    expect(await publicStarts('2027-03-10')).toEqual(['09:00', '09:15', '09:30']);
    expect((await api.request(`${blackoutsPath}/2027-03-10`, { method: 'DELETE', headers: instructor.headers })).status).toBe(404);
    const audits = [
      ...(await auditRows(api.database, 'availability.blackout.add')),
      ...(await auditRows(api.database, 'availability.blackout.remove')),
    ];
    expect(audits.map((row) => [row.action, row.before, row.after])).toEqual([
      ['availability.blackout.add', null, { day: '2027-03-10', reason: 'recital' }],
      ['availability.blackout.remove', { day: '2027-03-10', reason: 'recital' }, null],
    ]);
  });

  it('round-trips ranges across the spring-forward gap and offers no start in the missing hour', async () => {
    const { body } = await getWeek(NEXT_WEEK);
    const saved = await saveWeek(NEXT_WEEK, body.etag, [{ day: '2027-03-14', ranges: [range('01:00', '04:00')] }]);
    expect(saved.status).toBe(200);
    expect(rangesOf((await getWeek(NEXT_WEEK)).body, '2027-03-14')).toEqual([range('01:00', '04:00')]);
    // 01:00–02:00 EST and 03:00–04:00 EDT are contiguous in UTC (06:00–08:00Z): 30-minute lessons
    // start every quarter hour, and none at 02:xx, which does not exist that night
    expect(await publicStarts('2027-03-14')).toEqual(['01:00', '01:15', '01:30', '01:45', '03:00', '03:15', '03:30']);
  });

  it('round-trips ranges on the fall-back day', async () => {
    const fallWeek = '2027-11-01'; // Sunday 2027-11-07: 01:00–02:00 happens twice
    const { body } = await getWeek(fallWeek);
    const ranges = [range('00:30', '01:30'), range('01:45', '03:00')];
    const saved = await saveWeek(fallWeek, body.etag, [{ day: '2027-11-07', ranges }]);
    expect(saved.status).toBe(200);
    const read = await getWeek(fallWeek);
    expect(rangesOf(read.body, '2027-11-07')).toEqual(ranges);
    expect(read.body.etag).toBe(saved.body.etag);
  });
});
