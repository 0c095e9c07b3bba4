import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reserveCredits } from '../src/credits/index.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { confirmedBooking, DAY_MS, expectLedgerConsistent, grantCredit, inTransaction } from './credits-helpers.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows } from './support/auth.ts';
import { actingUser } from './support/bookings.ts';

const NOW = new Date('2031-05-01T12:00:00Z');
const clock = fixedClock(NOW);
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({
    clock,
    env: { RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' }, payment: { mode: 'off' } }) },
  });
});

afterAll(async () => {
  await api?.close();
});

describe('GET /api/v1/credits and /credits/history', () => {
  it('show the balance (available, reserved, expiring soon) and the ledger with reasons and booking ids', async () => {
    const student = await actingUser(api, 'student');
    await grantCredit(api.database, student.userId, 1500, new Date(NOW.getTime() + 10 * DAY_MS), { now: NOW });
    await grantCredit(api.database, student.userId, 4000, new Date(NOW.getTime() + 200 * DAY_MS), { now: NOW });
    const bookingId = await confirmedBooking(api.database, student.userId);
    await inTransaction(api.database, (trx) => reserveCredits(trx, { studentId: student.userId, bookingId, maxCents: 2000, now: NOW }));

    const balance = await api.request('/api/v1/credits', { headers: student.headers });
    expect(balance.status).toBe(200);
    expect(balance.body).toEqual({
      availableCents: 3500,
      reservedCents: 2000,
      balanceCents: 5500,
      expiringSoonCents: 0,
      expiringSoonDays: 30,
      nextExpiryAt: new Date(NOW.getTime() + 200 * DAY_MS).toISOString(),
      currency: 'usd',
    });

    const first = await api.request('/api/v1/credits/history?limit=2', { headers: student.headers });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.items[0]).toMatchObject({ kind: 'reserve', bookingId, reason: 'Held for a lesson at checkout' });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await api.request(`/api/v1/credits/history?limit=10&cursor=${first.body.nextCursor}`, { headers: student.headers });
    const all = [...first.body.items, ...rest.body.items];
    expect(all.map((entry: { kind: string }) => entry.kind)).toEqual(['reserve', 'reserve', 'grant', 'grant']);
    expect(all.reduce((sum: number, entry: { amountCents: number }) => sum + entry.amountCents, 0)).toBe(5500);
    expect(rest.body.nextCursor).toBeNull();

    const onlyBooking = await api.request(`/api/v1/credits/history?bookingId=${bookingId}`, { headers: student.headers });
    expect(onlyBooking.body.items.every((entry: { bookingId: string }) => entry.bookingId === bookingId)).toBe(true);

    const instructor = await actingUser(api, 'instructor');
    expect((await api.request('/api/v1/credits', { headers: instructor.headers })).status).toBe(403);
    expect((await api.request('/api/v1/credits')).status).toBe(401);
  });
});

describe('POST /api/v1/admin/users/{id}/credits', () => {
  it('adds and removes credit, audited, and never below zero', async () => {
    const admin = await actingUser(api, 'admin');
    const student = await actingUser(api, 'student');
    const path = `/api/v1/admin/users/${student.userId}/credits`;

    const added = await api.request(path, {
      method: 'POST',
      headers: admin.headers,
      json: { amountCents: 2500, reason: 'Goodwill after a late instructor' },
    });
    expect(added.status).toBe(201);
    expect(added.body.balance).toMatchObject({ availableCents: 2500 });
    const lot = await api.database.db.selectFrom('creditLots').selectAll().where('userId', '=', student.userId).executeTakeFirstOrThrow();
    expect(lot).toMatchObject({ source: 'admin', originalCents: 2500, grantedBy: admin.userId });
    expect(lot.expiresAt.toISOString()).toBe('2032-05-01T12:00:00.000Z');

    const removed = await api.request(path, {
      method: 'POST',
      headers: admin.headers,
      json: { amountCents: -1000, reason: 'Duplicate goodwill credit' },
    });
    expect(removed.status).toBe(201);
    expect(removed.body.balance).toMatchObject({ availableCents: 1500 });
    expect(removed.body.lots).toEqual([{ lotId: lot.id, amountCents: -1000 }]);

    const audits = await auditRows(api.database, 'credits.adjust');
    const mine = audits.filter((row) => row.resourceId === student.userId);
    expect(mine.map((row) => row.reason)).toEqual(['Goodwill after a late instructor', 'Duplicate goodwill credit']);
    expect(mine.every((row) => row.actorId === admin.userId)).toBe(true);

    const history = await api.request('/api/v1/credits/history', { headers: student.headers });
    expect(history.body.items.map((entry: { kind: string; amountCents: number }) => [entry.kind, entry.amountCents])).toEqual([
      ['adjust', -1000],
      ['adjust', 2500],
    ]);
  });

  it('refuses bad requests with a clear error and changes nothing', async () => {
    const admin = await actingUser(api, 'admin');
    const student = await actingUser(api, 'student');
    await grantCredit(api.database, student.userId, 1000, new Date(NOW.getTime() + 100 * DAY_MS), { now: NOW });
    const bookingId = await confirmedBooking(api.database, student.userId);
    await inTransaction(api.database, (trx) => reserveCredits(trx, { studentId: student.userId, bookingId, maxCents: 400, now: NOW }));
    const path = `/api/v1/admin/users/${student.userId}/credits`;
    const before = await expectLedgerConsistent(api.database.db, student.userId);

    const overdraft = await api.request(path, {
      method: 'POST',
      headers: admin.headers,
      json: { amountCents: -700, reason: 'Remove too much' },
    });
    expect(overdraft.status).toBe(409);
    expect(overdraft.body).toMatchObject({ code: 'conflict', field: 'amountCents' });
    expect(overdraft.body.detail).toContain('only $6.00 is available');

    const euros = await api.request(path, {
      method: 'POST',
      headers: admin.headers,
      json: { amountCents: 500, reason: 'Wrong money', currency: 'eur' },
    });
    expect(euros.status).toBe(422);
    expect(euros.body).toMatchObject({ code: 'validation_error', field: 'currency' });

    for (const json of [
      { amountCents: 0, reason: 'Nothing' },
      { amountCents: 10.5, reason: 'Fraction' },
      { amountCents: 500 },
      { amountCents: 500, reason: 'x', extra: 1 },
    ]) {
      const refused = await api.request(path, { method: 'POST', headers: admin.headers, json });
      expect(refused.status, JSON.stringify(json)).toBe(422);
    }
    const unknown = await api.request('/api/v1/admin/users/nobody/credits', {
      method: 'POST',
      headers: admin.headers,
      json: { amountCents: 500, reason: 'Ghost' },
    });
    expect(unknown.status).toBe(404);
    const asStudent = await api.request(path, { method: 'POST', headers: student.headers, json: { amountCents: 500, reason: 'Myself' } });
    expect(asStudent.status).toBe(403);

    expect(await expectLedgerConsistent(api.database.db, student.userId)).toEqual(before);
    expect(before).toEqual({ balanceCents: 1000, availableCents: 600, reservedCents: 400 });
  });
});
