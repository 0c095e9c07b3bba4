import { type Database, loadDbConfig, newId, openDatabase } from '@instainstru/db';
import { truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { grantFoundingStatus, instructorFeeBpsFor } from '../src/pricing/index.ts';
import { AppError } from '../src/shared/errors.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows } from './support/auth.ts';
import { actingUser, BOOKING_TEST_ENV } from './support/bookings.ts';

const NOW = '2027-06-15T12:00:00Z';
const clock = fixedClock(NOW);
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ clock, env: BOOKING_TEST_ENV });
});
afterAll(async () => {
  await api?.close();
});
beforeEach(async () => {
  clock.set(NOW);
  await truncateAll(api.database);
});

/** `count` instructors (users + profiles) in two statements; `founding` gives some of them numbers. */
async function createInstructors(count: number, founding: (index: number) => number | null = () => null): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newId());
  await api.database.db
    .insertInto('users')
    .values(
      ids.map((id, index) => ({
        id,
        email: `founder${index}-${id.toLowerCase()}@example.com`,
        firstName: `F${index}`,
        lastName: 'Founder',
      })),
    )
    .execute();
  await api.database.db
    .insertInto('userRoles')
    .values(ids.map((userId) => ({ userId, role: 'instructor' })))
    .execute();
  await api.database.db
    .insertInto('instructorProfiles')
    .values(
      ids.map((userId, index) => {
        const number = founding(index);
        return {
          userId,
          isLive: true,
          isFounding: number !== null,
          foundingNumber: number,
          foundingGrantedAt: number === null ? null : new Date('2026-01-01T00:00:00Z'),
          tierFeeBps: number === null ? 1500 : 800,
        };
      }),
    )
    .execute();
  return ids;
}

async function foundingNumbers(): Promise<number[]> {
  const rows = await api.database.db
    .selectFrom('instructorProfiles')
    .select('foundingNumber')
    .where('isFounding', '=', true)
    .orderBy('foundingNumber')
    .execute();
  return rows.map((row) => row.foundingNumber ?? -1);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe('POST /api/v1/admin/instructors/{id}/founding', () => {
  it('grants the lowest free number at 8% for life, audits it, and is idempotent', async () => {
    // numbers 1, 2 and 4 are taken
    await createInstructors(3, (index) => [1, 2, 4][index] ?? null);
    const [instructorId] = await createInstructors(1);
    const admin = await actingUser(api, 'admin');

    const first = await api.request(`/api/v1/admin/instructors/${instructorId}/founding`, { method: 'POST', headers: admin.headers });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ instructorId, foundingNumber: 3, grantedAt: '2027-06-15T12:00:00.000Z', feeBps: 800, granted: true });
    const row = await api.database.db
      .selectFrom('instructorProfiles')
      .select(['isFounding', 'foundingNumber', 'tierFeeBps'])
      .where('userId', '=', instructorId!)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ isFounding: true, foundingNumber: 3, tierFeeBps: 800 });
    const audits = await auditRows(api.database, 'instructor.founding.grant');
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      actorType: 'user',
      actorId: admin.userId,
      resourceId: instructorId,
      after: { foundingNumber: 3, feeBps: 800 },
    });

    clock.advance(60_000);
    const again = await api.request(`/api/v1/admin/instructors/${instructorId}/founding`, { method: 'POST', headers: admin.headers });
    expect(again.body).toMatchObject({ foundingNumber: 3, granted: false, grantedAt: '2027-06-15T12:00:00.000Z' });
    expect(await foundingNumbers()).toEqual([1, 2, 3, 4]);
    expect(await auditRows(api.database, 'instructor.founding.grant')).toHaveLength(1);

    // and bookings with them snapshot 8%
    expect(await api.database.db.transaction().execute((trx) => instructorFeeBpsFor(trx, instructorId!, clock.now()))).toEqual({
      feeBps: 800,
      isFounding: true,
    });
  });

  it('refuses the 101st founding instructor with 409 and changes nothing', async () => {
    await createInstructors(100, (index) => index + 1);
    const [late] = await createInstructors(1);
    const admin = await actingUser(api, 'admin');
    const { status, body } = await api.request(`/api/v1/admin/instructors/${late}/founding`, { method: 'POST', headers: admin.headers });
    expect(status).toBe(409);
    expect(body).toMatchObject({ code: 'conflict', detail: 'All 100 founding-instructor places are taken.' });
    expect((await foundingNumbers()).length).toBe(100);
    expect(await auditRows(api.database, 'instructor.founding.grant')).toHaveLength(0);
  });

  it('answers 404 for an unknown instructor and 403 to anyone without instructors:verify', async () => {
    const [instructorId] = await createInstructors(1);
    const admin = await actingUser(api, 'admin');
    expect((await api.request(`/api/v1/admin/instructors/${newId()}/founding`, { method: 'POST', headers: admin.headers })).status).toBe(
      404,
    );
    for (const role of ['student', 'instructor'] as const) {
      const user = await actingUser(api, role);
      const { status } = await api.request(`/api/v1/admin/instructors/${instructorId}/founding`, { method: 'POST', headers: user.headers });
      expect(status).toBe(403);
      expect((await api.request('/api/v1/admin/founding', { headers: user.headers })).status).toBe(403);
    }
    expect((await api.request(`/api/v1/admin/instructors/${instructorId}/founding`, { method: 'POST' })).status).toBe(401);
    expect(await foundingNumbers()).toEqual([]);
  });
});

describe('GET /api/v1/admin/founding', () => {
  it('shows the count, the cap, what remains and who holds the places, in number order', async () => {
    const [second, first] = await createInstructors(2, (index) => [2, 1][index] ?? null);
    await createInstructors(1);
    const admin = await actingUser(api, 'admin');
    const { status, body } = await api.request('/api/v1/admin/founding', { headers: admin.headers });
    expect(status).toBe(200);
    expect(body).toMatchObject({ count: 2, cap: 100, remaining: 98, feeBps: 800 });
    expect(body.instructors.map((row: { instructorId: string; foundingNumber: number }) => [row.instructorId, row.foundingNumber])).toEqual(
      [
        [first, 1],
        [second, 2],
      ],
    );
    expect(body.instructors[0]).toMatchObject({ name: 'F1 Founder', isLive: true, verificationStatus: 'unverified' });
  });
});

describe('the founding cap under concurrency', () => {
  it('120 simultaneous grants on separate connections give exactly the 70 free numbers, never more than 100', async () => {
    // 30 places taken: 1..40 except every fourth number, so the free ones are 4, 8, …, 40 and 41..100
    const taken = range(1, 40).filter((number) => number % 4 !== 0);
    await createInstructors(taken.length, (index) => taken[index] ?? null);
    const candidates = await createInstructors(120);
    const admin = await actingUser(api, 'admin');
    const caller = {
      principal: { kind: 'user' as const, userId: admin.userId, roles: ['admin'], permissions: new Set<string>(), tokenId: null },
    };

    // On PostgreSQL: a pool of 40 real connections, so grants truly run at once and meet at the lock.
    // PGlite is one session: the same code runs, serialized by the engine.
    let pool: Database = api.database;
    if (api.database.url) pool = await openDatabase({ ...loadDbConfig({ DATABASE_URL: api.database.url }), poolMax: 40, tier: 'int' });
    try {
      const results = await Promise.allSettled(
        candidates.map((id) => pool.db.transaction().execute((trx) => grantFoundingStatus(trx, id, caller, clock.now()))),
      );
      const granted = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value.foundingNumber] : []));
      const refused = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
      expect(granted).toHaveLength(70);
      expect([...granted].sort((a, b) => a - b)).toEqual([...range(1, 10).map((n) => n * 4), ...range(41, 100)]);
      expect(refused).toHaveLength(50);
      for (const reason of refused) expect(reason).toBeInstanceOf(AppError);
      expect(new Set(refused.map((reason: AppError) => reason.code))).toEqual(new Set(['conflict']));
    } finally {
      if (pool !== api.database) await pool.close();
    }
    expect(await foundingNumbers()).toEqual(range(1, 100));
    expect(await auditRows(api.database, 'instructor.founding.grant')).toHaveLength(70);
  });
});
