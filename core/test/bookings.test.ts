import { truncateAll } from '@instainstru/db/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import {
  actingUser,
  BOOKING_TEST_ENV,
  createBookableInstructor,
  createRegion,
  postBooking,
  postConfirmedBooking,
  tokenHeaders,
} from './support/bookings.ts';

// Tuesday 2027-03-02 10:00 in New York (EST, UTC−5); lessons on Thursday 2027-03-04 (open 09:00–21:00 local = 14:00Z–02:00Z)
const NOW = '2027-03-02T15:00:00Z';
const DAY = '2027-03-04';
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

const lesson = (instructor: { instructorId: string; serviceId: string }, startsAt: string, extra: Record<string, unknown> = {}) => ({
  instructorId: instructor.instructorId,
  serviceId: instructor.serviceId,
  startsAt,
  durationMinutes: 60,
  locationType: 'online',
  ...extra,
});

async function countBookings(where: { instructorId?: string; status?: string } = {}) {
  let query = api.database.db.selectFrom('bookings').select((eb) => eb.fn.countAll<string>().as('n'));
  if (where.instructorId) query = query.where('instructorId', '=', where.instructorId);
  if (where.status) query = query.where('status', '=', where.status);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

describe('POST /api/v1/bookings', () => {
  it('holds the time 15 minutes as pending_payment, snapshots price, fees and policy, enqueues the hold expiry and audits', async () => {
    const instructor = await createBookableInstructor(api, { days: [DAY], hourlyRateCents: 12345 });
    const student = await actingUser(api);
    const { status, body } = await postBooking(api, student.headers, lesson(instructor, '2027-03-04T15:00:00Z', { notes: 'First lesson' }));
    expect(status).toBe(201);
    expect(body).toMatchObject({
      status: 'pending_payment',
      paymentStatus: 'scheduled',
      studentId: student.userId,
      instructorId: instructor.instructorId,
      startsAt: '2027-03-04T15:00:00.000Z',
      endsAt: '2027-03-04T16:00:00.000Z',
      holdExpiresAt: '2027-03-02T15:15:00.000Z',
      studentNote: 'First lesson',
      // LP 12345, SF round(1481.4) = 1481, IF round(15% = 1851.75) = 1852, P = 10493
      price: {
        hourlyRateCents: 12345,
        lessonPriceCents: 12345,
        studentFeeCents: 1481,
        instructorFeeBps: 1500,
        instructorFeeCents: 1852,
        instructorPayoutCents: 10493,
        cardAmountCents: 13826,
        policyVersion: 'v2.1.1',
      },
      location: { type: 'online', address: null, approximate: null },
    });
    const row = await api.database.db
      .selectFrom('bookings')
      .select(['policySnapshot', 'bufferMinutes'])
      .where('id', '=', body.id)
      .executeTakeFirstOrThrow();
    expect(row.bufferMinutes).toBe(15);
    expect(row.policySnapshot).toMatchObject({ version: 'v2.1.1', studentFeeBps: 1200, instructorFeeBps: 1500, holdMinutes: 15 });
    const { rows: jobs } = await sql<{ key: string; startAfter: Date }>`
      select singleton_key as key, start_after from pgboss.job where name = 'booking.hold-expiry' and data->>'bookingId' = ${body.id}`.execute(
      api.database.db,
    );
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.key).toBe(body.id);
    expect(new Date(jobs[0]!.startAfter).toISOString()).toBe('2027-03-02T15:15:00.000Z');
    const events = await api.database.db
      .selectFrom('bookingEvents')
      .select('type')
      .where('bookingId', '=', body.id)
      .orderBy('at')
      .execute();
    expect(events.map((event) => event.type)).toEqual(['created', 'held']);
    const audit = await api.database.db.selectFrom('auditLog').select(['action', 'actorId']).where('resourceId', '=', body.id).execute();
    expect(audit).toEqual([{ action: 'booking.create', actorId: student.userId }]);
  });

  it('charges founding instructors 8% whatever their tier', async () => {
    const instructor = await createBookableInstructor(api, { days: [DAY], hourlyRateCents: 12000, isFounding: true, tierFeeBps: 1500 });
    const student = await actingUser(api);
    const { body } = await postBooking(api, student.headers, lesson(instructor, '2027-03-04T15:00:00Z'));
    expect(body.price).toMatchObject({
      lessonPriceCents: 12000,
      studentFeeCents: 1440,
      instructorFeeBps: 800,
      instructorFeeCents: 960,
      instructorPayoutCents: 11040,
    });
  });

  it('R1: 100 simultaneous requests for overlapping times of one instructor give exactly one 201 and 99 × 409', async () => {
    const instructor = await createBookableInstructor(api, { days: [DAY] });
    const students = await Promise.all(Array.from({ length: 100 }, () => actingUser(api)));
    const started = Date.now();
    const answers = await Promise.all(
      students.map((student, index) =>
        postBooking(
          api,
          student.headers,
          lesson(instructor, new Date(Date.parse('2027-03-04T15:00:00Z') + (index % 4) * 15 * 60_000).toISOString()),
        ),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(99);
    expect(answers.filter((answer) => answer.status === 409).every((answer) => answer.body.code === 'slot_unavailable')).toBe(true);
    expect(await countBookings({ instructorId: instructor.instructorId })).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('accepts lessons exactly one buffer apart and refuses anything closer (15 min; 60 min when travel is involved)', async () => {
    const area = await createRegion(api, { name: 'Chelsea', lat: 40.745, lng: -73.998 });
    const instructor = await createBookableInstructor(api, { days: [DAY], serviceAreaIds: [area] });
    const [a, b, c, d] = await Promise.all([actingUser(api), actingUser(api), actingUser(api), actingUser(api)]);
    expect((await postBooking(api, a!.headers, lesson(instructor, '2027-03-04T15:00:00Z'))).status).toBe(201);
    const tooClose = await postBooking(api, b!.headers, lesson(instructor, '2027-03-04T16:00:00Z'));
    expect(tooClose.status).toBe(409);
    expect(tooClose.body.code).toBe('slot_unavailable');
    expect((await postBooking(api, b!.headers, lesson(instructor, '2027-03-04T16:15:00Z'))).status).toBe(201);
    // a travel lesson needs 60 minutes from the online one that ends at 17:15
    const address = { line1: '200 W 20th St', postalCode: '10011', lat: 40.744, lng: -73.997 };
    expect(
      (await postBooking(api, c!.headers, lesson(instructor, '2027-03-04T18:00:00Z', { locationType: 'student_location', address })))
        .status,
    ).toBe(409);
    expect(
      (await postBooking(api, c!.headers, lesson(instructor, '2027-03-04T18:15:00Z', { locationType: 'student_location', address })))
        .status,
    ).toBe(201);
    expect((await postBooking(api, d!.headers, lesson(instructor, '2027-03-04T20:00:00Z'))).status).toBe(409);
    expect((await postBooking(api, d!.headers, lesson(instructor, '2027-03-04T20:15:00Z'))).status).toBe(201);
  });

  it('refuses zero-length, inverted, off-step, local-time, too-soon and DST-gap times with 422', async () => {
    const instructor = await createBookableInstructor(api, { days: [DAY] });
    const student = await actingUser(api);
    const cases: Array<[Record<string, unknown>, string]> = [
      [lesson(instructor, '2027-03-04T15:00:00Z', { durationMinutes: 0 }), 'durationMinutes'],
      [lesson(instructor, '2027-03-04T15:00:00Z', { durationMinutes: -60 }), 'durationMinutes'],
      [lesson(instructor, '2027-03-04T15:00:00Z', { durationMinutes: 45 }), 'durationMinutes'],
      [lesson(instructor, '2027-03-04T15:07:00Z'), 'startsAt'],
      [lesson(instructor, '2027-03-04T10:00:00'), 'startsAt'],
      [lesson(instructor, '2027-03-04T10:00:00-05:00'), 'startsAt'],
      [lesson(instructor, '2027-03-02T15:30:00Z'), 'startsAt'],
      [lesson(instructor, '2027-03-04T03:00:00Z'), 'startsAt'],
      [lesson(instructor, 'not a time'), 'startsAt'],
    ];
    for (const [body, field] of cases) {
      const answer = await postBooking(api, student.headers, body);
      expect({ body, status: answer.status, field: answer.body.field }).toEqual({ body, status: 422, field });
    }

    // 2027-03-14, spring forward: 02:00–02:59 local does not exist. Open 01:00–04:00 local.
    const dst = await createBookableInstructor(api, { days: ['2027-03-14'], ranges: [{ start: 60, end: 240 }] });
    const listing = await api.request(
      `/api/v1/public/instructors/${dst.instructorId}/availability?serviceId=${dst.serviceId}&durationMinutes=60&locationType=online&from=2027-03-14&to=2027-03-14`,
    );
    // 01:00 EST = 06:00Z … the last hour-long lesson starts 03:00 EDT = 07:00Z
    expect(listing.body.slots.map((slot: { startsAt: string }) => slot.startsAt)).toEqual([
      '2027-03-14T06:00:00.000Z',
      '2027-03-14T06:15:00.000Z',
      '2027-03-14T06:30:00.000Z',
      '2027-03-14T06:45:00.000Z',
      '2027-03-14T07:00:00.000Z',
    ]);
    expect((await postBooking(api, student.headers, lesson(dst, '2027-03-14T07:15:00Z'))).status).toBe(422);
    expect((await postBooking(api, student.headers, lesson(dst, '2027-03-14T05:45:00Z'))).status).toBe(422);
    expect((await postBooking(api, student.headers, lesson(dst, '2027-03-14T06:30:00Z'))).status).toBe(201);
    expect(await countBookings()).toBe(1);
  });

  it('a student cannot double-book themselves with two instructors', async () => {
    const one = await createBookableInstructor(api, { days: [DAY] });
    const two = await createBookableInstructor(api, { days: [DAY], serviceId: one.serviceId });
    const student = await actingUser(api);
    expect((await postBooking(api, student.headers, lesson(one, '2027-03-04T15:00:00Z'))).status).toBe(201);
    const clash = await postBooking(api, student.headers, lesson(two, '2027-03-04T15:30:00Z'));
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('student_double_booked');
    // concurrently, too: two instructors, one student, same time
    const three = await createBookableInstructor(api, { days: [DAY], serviceId: one.serviceId });
    const four = await createBookableInstructor(api, { days: [DAY], serviceId: one.serviceId });
    const racing = await Promise.all([
      postBooking(api, student.headers, lesson(three, '2027-03-04T18:00:00Z')),
      postBooking(api, student.headers, lesson(four, '2027-03-04T18:00:00Z')),
    ]);
    expect(racing.map((answer) => answer.status).sort()).toEqual([201, 409]);
    expect(await countBookings()).toBe(2);
  });

  it('R2: two holds for one slot never both hold time; an expired hold is released, not revived', async () => {
    const instructor = await createBookableInstructor(api, { days: [DAY] });
    const [a, b, c] = await Promise.all([actingUser(api), actingUser(api), actingUser(api)]);
    const racing = await Promise.all(
      [a, b].map((student) => postBooking(api, student!.headers, lesson(instructor, '2027-03-04T15:00:00Z'))),
    );
    expect(racing.map((answer) => answer.status).sort()).toEqual([201, 409]);
    const first = racing.find((answer) => answer.status === 201)!.body;

    clock.advance(16 * 60_000); // the hold lapses unpaid
    const second = await postBooking(api, c!.headers, lesson(instructor, '2027-03-04T15:00:00Z'));
    expect(second.status).toBe(201);
    const old = await api.database.db
      .selectFrom('bookings')
      .select(['status', 'cancelledBy', 'cancellationReason'])
      .where('id', '=', first.id)
      .executeTakeFirstOrThrow();
    expect(old).toEqual({ status: 'cancelled', cancelledBy: 'system', cancellationReason: 'hold_expired' });
    // confirming the lapsed hold now (what a late payment would try) is refused by the constraint
    await expect(
      api.database.db.updateTable('bookings').set({ status: 'confirmed' }).where('id', '=', first.id).execute(),
    ).rejects.toMatchObject({ code: '23P01' });
    expect(await countBookings({ status: 'pending_payment' })).toBe(1);
  });

  it('R3: one Idempotency-Key sent 20× at once and 20× in sequence makes one booking and replays the same answer', async () => {
    const instructor = await createBookableInstructor(api, { days: [DAY] });
    const student = await actingUser(api);
    const body = lesson(instructor, '2027-03-04T15:00:00Z');
    const key = 'b6f0c1e2-3a4b-4c5d-8e9f-0123456789ab';
    const burst = await Promise.all(Array.from({ length: 20 }, () => postBooking(api, student.headers, body, key)));
    const created = burst.filter((answer) => answer.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(
      burst.every((answer) => answer.status === 201 || (answer.status === 409 && answer.body.code === 'idempotency_in_progress')),
    ).toBe(true);
    const first = created[0]!.body;
    for (const answer of created) expect(answer.body).toEqual(first);
    for (let i = 0; i < 20; i += 1) {
      const replay = await postBooking(api, student.headers, body, key);
      expect(replay.status).toBe(201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(first);
    }
    expect(await countBookings()).toBe(1);
    const changed = await postBooking(api, student.headers, { ...body, startsAt: '2027-03-04T18:00:00Z' }, key);
    expect(changed.status).toBe(409);
    expect(changed.body.code).toBe('idempotency_key_reused');
    const tooLong = await postBooking(api, student.headers, body, 'k'.repeat(256));
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.field).toBe('Idempotency-Key');
    const missing = await api.request('/api/v1/bookings', { method: 'POST', json: body, headers: student.headers });
    expect(missing.status).toBe(422);
    expect(await countBookings()).toBe(1);
  });

  it('needs a signed-in user with bookings:create', async () => {
    const instructor = await createBookableInstructor(api, { days: [DAY] });
    expect((await postBooking(api, {}, lesson(instructor, '2027-03-04T15:00:00Z'))).status).toBe(401);
    expect((await postBooking(api, instructor.headers, lesson(instructor, '2027-03-04T15:00:00Z'))).status).toBe(403);
  });
});

describe('addresses and views', () => {
  it('travel lessons need an address inside the service area (a covered borough covers its neighborhoods); only the two parties see it', async () => {
    const borough = await createRegion(api, { name: 'Brooklyn Test', kind: 'borough', lat: 40.68, lng: -73.95, half: 0.05 });
    const parkSlope = await createRegion(api, { name: 'Park Slope', parentId: borough, lat: 40.672, lng: -73.978, half: 0.01 });
    await createRegion(api, { name: 'Astoria', lat: 40.772, lng: -73.93, half: 0.01 });
    const instructor = await createBookableInstructor(api, { days: [DAY], serviceAreaIds: [borough] });
    const student = await actingUser(api);
    const address = { line1: '100 7th Ave', line2: 'Apt 3', postalCode: '11215', lat: 40.6725, lng: -73.9775 };

    const missing = await postBooking(
      api,
      student.headers,
      lesson(instructor, '2027-03-04T15:00:00Z', { locationType: 'student_location' }),
    );
    expect(missing).toMatchObject({ status: 422, body: { field: 'address' } });
    const outside = await postBooking(
      api,
      student.headers,
      lesson(instructor, '2027-03-04T15:00:00Z', { locationType: 'student_location', address: { ...address, lat: 40.772, lng: -73.93 } }),
    );
    expect(outside).toMatchObject({ status: 422, body: { field: 'address' } });
    const online = await postBooking(api, student.headers, lesson(instructor, '2027-03-04T15:00:00Z', { address }));
    expect(online).toMatchObject({ status: 422, body: { field: 'address' } });

    const created = await postBooking(
      api,
      student.headers,
      lesson(instructor, '2027-03-04T15:00:00Z', { locationType: 'student_location', address }),
    );
    expect(created.status).toBe(201);
    expect(created.body.location).toMatchObject({
      type: 'student_location',
      neighborhood: 'Park Slope',
      address: { text: '100 7th Ave, Apt 3, New York, NY 11215', lat: 40.6725, lng: -73.9775 },
    });
    const row = await api.database.db
      .selectFrom('bookings')
      .select(['locationRegionId', 'bufferMinutes'])
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ locationRegionId: parkSlope, bufferMinutes: 60 });

    const id = created.body.id;
    const asInstructor = await api.request(`/api/v1/bookings/${id}`, { headers: instructor.headers });
    expect(asInstructor.body.location.address.text).toBe('100 7th Ave, Apt 3, New York, NY 11215');
    expect(asInstructor.body.events.map((event: { type: string }) => event.type)).toEqual(['created', 'held']);
    const admin = await actingUser(api, 'admin');
    const asAdmin = await api.request(`/api/v1/bookings/${id}`, { headers: admin.headers });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.location.address).toBeNull();
    expect(asAdmin.body.location.neighborhood).toBe('Park Slope');
    const { lat, lng } = asAdmin.body.location.approximate;
    const meters = Math.hypot((lat - address.lat) * 111_320, (lng - address.lng) * 111_320 * Math.cos((address.lat * Math.PI) / 180));
    expect(meters).toBeGreaterThanOrEqual(24.5);
    expect(meters).toBeLessThanOrEqual(50.5);
    expect(JSON.stringify(asAdmin.body)).not.toContain('7th Ave');

    const stranger = await actingUser(api);
    const otherInstructor = await createBookableInstructor(api, { days: [], serviceId: instructor.serviceId });
    for (const headers of [stranger.headers, otherInstructor.headers]) {
      for (const path of [`/api/v1/bookings/${id}`, `/api/v1/bookings/${id}/cancellation-quote`]) {
        expect((await api.request(path, { headers })).status).toBe(404);
      }
      expect((await api.request(`/api/v1/bookings/${id}/cancel`, { method: 'POST', json: {}, headers })).status).toBe(404);
    }
    expect((await api.request(`/api/v1/bookings/${id}/no-show`, { method: 'POST', json: {}, headers: stranger.headers })).status).toBe(404);
    expect(
      (
        await api.request(`/api/v1/bookings/${id}/reschedule`, {
          method: 'POST',
          json: { startsAt: '2027-03-04T18:00:00Z' },
          headers: stranger.headers,
        })
      ).status,
    ).toBe(404);
    expect((await api.request(`/api/v1/bookings/${id}/complete`, { method: 'POST', headers: otherInstructor.headers })).status).toBe(404);
    expect(
      (
        await api.request(`/api/v1/bookings/${id}/instructor-note`, {
          method: 'POST',
          json: { note: 'x' },
          headers: otherInstructor.headers,
        })
      ).status,
    ).toBe(404);
  });

  it('lists upcoming and past lessons by role and status, a page at a time', async () => {
    const instructor = await createBookableInstructor(api, { days: [DAY, '2027-03-05'] });
    const student = await actingUser(api);
    const starts = ['2027-03-04T15:00:00Z', '2027-03-04T17:00:00Z', '2027-03-05T15:00:00Z'];
    const ids: string[] = [];
    for (const startsAt of starts) ids.push((await postConfirmedBooking(api, student.headers, lesson(instructor, startsAt))).body.id);

    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await api.request(
        `/api/v1/bookings?role=student&when=upcoming&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { headers: student.headers },
      );
      expect(page.status).toBe(200);
      pages.push(...page.body.items.map((item: { id: string }) => item.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages).toEqual(ids);
    const teaching = await api.request('/api/v1/bookings?role=instructor&status=confirmed,pending_payment', {
      headers: instructor.headers,
    });
    expect(teaching.body.items.map((item: { id: string }) => item.id)).toEqual([...ids].reverse());
    expect((await api.request('/api/v1/bookings?role=instructor', { headers: student.headers })).body.items).toEqual([]);
    expect((await api.request('/api/v1/bookings?role=student&status=cancelled', { headers: student.headers })).body.items).toEqual([]);
    expect((await api.request('/api/v1/bookings?role=student&status=bogus', { headers: student.headers })).status).toBe(422);

    clock.set('2027-03-05T00:00:00Z');
    const past = await api.request('/api/v1/bookings?role=student&when=past', { headers: student.headers });
    expect(past.body.items.map((item: { id: string }) => item.id)).toEqual([ids[1], ids[0]]);
  });
});

describe('lifecycle', () => {
  it('book → check out (confirmed, payment scheduled) → complete after it starts → no-show window → quotes and cancellation', async () => {
    const instructor = await createBookableInstructor(api, { days: [DAY, '2027-03-05'], hourlyRateCents: 12345 });
    const student = await actingUser(api);
    const booked = await postConfirmedBooking(api, student.headers, lesson(instructor, '2027-03-04T15:00:00Z'));
    expect(booked.body).toMatchObject({ status: 'confirmed', holdExpiresAt: null });
    const id = booked.body.id;
    const post = (path: string, headers: Record<string, string>, json: unknown = {}) =>
      api.request(`/api/v1/bookings/${id}${path}`, { method: 'POST', json, headers });

    expect((await post('/complete', instructor.headers)).status).toBe(422);
    expect((await post('/no-show', student.headers)).status).toBe(422);
    const note = await post('/instructor-note', instructor.headers, { note: 'Work on scales' });
    expect(note.body.instructorNote).toBe('Work on scales');
    expect((await post('/instructor-note', student.headers, { note: 'mine' })).status).toBe(403);

    clock.set('2027-03-04T15:10:00Z');
    expect((await post('/complete', student.headers)).status).toBe(403);
    const completed = await post('/complete', instructor.headers);
    expect(completed.body).toMatchObject({ status: 'completed', completedAt: '2027-03-04T15:10:00.000Z' });
    expect((await api.request(`/api/v1/bookings/${id}/cancellation-quote`, { headers: student.headers })).body.outcome).toBe(
      'not_cancellable',
    );
    expect((await post('/cancel', student.headers)).status).toBe(409);

    clock.set('2027-03-05T16:00:00Z'); // end + 24 h exactly: still in the window
    const noShow = await post('/no-show', student.headers, { reason: 'Nobody came' });
    expect(noShow.body).toMatchObject({ status: 'no_show', paymentStatus: 'manual_review', noShowReportedAt: '2027-03-05T16:00:00.000Z' });
    // (the test clock stands still between steps, so compare the timeline as a set)
    expect(noShow.body.events.map((event: { type: string }) => event.type).sort()).toEqual([
      'checkout',
      'completed',
      'confirmed',
      'created',
      'held',
      'instructor_note_updated',
      'no_show_reported',
    ]);

    // a second lesson, reported too late
    clock.set(NOW);
    const other = await postConfirmedBooking(api, student.headers, lesson(instructor, '2027-03-04T18:00:00Z'));
    clock.set('2027-03-05T19:00:00.001Z');
    expect(
      (await api.request(`/api/v1/bookings/${other.body.id}/no-show`, { method: 'POST', json: {}, headers: student.headers })).status,
    ).toBe(422);

    // quotes for a third lesson at 2027-03-05T15:00Z as time passes (LP 12345, SF 1481, P 10493)
    clock.set(NOW);
    const third = await postConfirmedBooking(api, student.headers, lesson(instructor, '2027-03-05T15:00:00Z'));
    const quote = async (at: string, headers = student.headers) => {
      clock.set(at);
      return (await api.request(`/api/v1/bookings/${third.body.id}/cancellation-quote`, { headers })).body;
    };
    expect(await quote('2027-03-04T15:00:00Z')).toMatchObject({
      outcome: 'released',
      window: 'ge_24h',
      cardChargedCents: 0,
      studentCreditCents: 0,
    });
    expect(await quote('2027-03-05T03:00:00Z')).toMatchObject({
      outcome: 'late_credit',
      window: 'h12_to_24',
      cardChargedCents: 13826,
      studentCreditCents: 12345,
      instructorPayoutCents: 0,
      feeKeptCents: 1481,
    });
    expect(await quote('2027-03-05T05:00:00Z')).toMatchObject({
      outcome: 'very_late_split',
      window: 'lt_12h',
      studentCreditCents: 6173,
      instructorPayoutCents: 5247,
      feeKeptCents: 1481,
    });
    expect(await quote('2027-03-05T05:00:00Z', instructor.headers)).toMatchObject({
      outcome: 'full_refund',
      studentCreditCents: 0,
      instructorPayoutCents: 0,
    });
    const cancelled = await api.request(`/api/v1/bookings/${third.body.id}/cancel`, {
      method: 'POST',
      json: { reason: 'Sick' },
      headers: student.headers,
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({
      status: 'cancelled',
      cancelledBy: 'student',
      cancellationReason: 'Sick',
      quote: { outcome: 'very_late_split', studentCreditCents: 6173 },
    });
    const event = await api.database.db
      .selectFrom('bookingEvents')
      .select('data')
      .where('bookingId', '=', third.body.id)
      .where('type', '=', 'cancelled')
      .executeTakeFirstOrThrow();
    expect(event.data).toMatchObject({ by: 'student', quote: { outcome: 'very_late_split', instructorPayoutCents: 5247 } });
    // the cancellation settled from that quote: authorized (the T−24h job had not run yet) and captured
    expect(
      (await api.database.db.selectFrom('auditLog').select('action').where('resourceId', '=', third.body.id).execute())
        .map((row) => row.action)
        .sort(),
    ).toEqual([
      'booking.cancel',
      'booking.confirm',
      'booking.create',
      'credits.settle_penalty',
      'payment.authorize',
      'payment.capture',
      'payment.checkout',
      'payment.settle',
    ]);
  });

  it('reschedules under the window rules: free ≥ 24 h, once and locking 12–24 h, refused < 12 h, never into a taken slot', async () => {
    const instructor = await createBookableInstructor(api, { days: [DAY, '2027-03-05', '2027-03-06'], hourlyRateCents: 10000 });
    const [student, other] = await Promise.all([actingUser(api), actingUser(api)]);
    const booked = await postConfirmedBooking(api, student.headers, lesson(instructor, '2027-03-04T15:00:00Z'));
    await postConfirmedBooking(api, other.headers, lesson(instructor, '2027-03-05T18:00:00Z'));
    const id = booked.body.id;
    const move = (startsAt: string, headers = student.headers) =>
      api.request(`/api/v1/bookings/${id}/reschedule`, { method: 'POST', json: { startsAt }, headers });

    expect((await move('2027-03-05T18:30:00Z')).status).toBe(409);
    expect((await move('2027-03-05T18:00:00Z', instructor.headers)).status).toBe(403);
    // moving next to itself works: its own time does not block it
    const early = await move('2027-03-04T15:30:00Z');
    expect(early.body).toMatchObject({
      startsAt: '2027-03-04T15:30:00.000Z',
      originalStartsAt: '2027-03-04T15:00:00.000Z',
      rescheduleCount: 1,
      paymentStatus: 'scheduled',
      lateRescheduleUsed: false,
    });
    const free = await move('2027-03-05T15:00:00Z');
    expect(free.body).toMatchObject({
      startsAt: '2027-03-05T15:00:00.000Z',
      originalStartsAt: '2027-03-04T15:00:00.000Z',
      rescheduleCount: 2,
    });

    clock.set('2027-03-04T15:00:00Z'); // exactly 24 h before: still the free window
    expect((await move('2027-03-05T20:00:00Z')).body).toMatchObject({ rescheduleCount: 3, lateRescheduleUsed: false });
    clock.set('2027-03-05T08:00:00Z'); // exactly 12 h before: the late window
    const late = await move('2027-03-06T16:00:00Z');
    expect(late.body).toMatchObject({
      startsAt: '2027-03-06T16:00:00.000Z',
      lateRescheduleUsed: true,
      paymentStatus: 'locked',
      lockedAt: '2027-03-05T08:00:00.000Z',
    });
    // locked: a cancellation ≥ 12 h before the new start is credit only
    expect((await api.request(`/api/v1/bookings/${id}/cancellation-quote`, { headers: student.headers })).body).toMatchObject({
      outcome: 'locked_credit',
      studentCreditCents: 10000,
      feeKeptCents: 1200,
    });
    clock.set('2027-03-05T17:00:00Z'); // 23 h before the new start
    const again = await move('2027-03-06T18:00:00Z');
    expect(again.status).toBe(422);
    expect(again.body.detail).toMatch(/already rescheduled/);
    clock.set('2027-03-06T05:00:00Z');
    const tooLate = await move('2027-03-06T19:00:00Z');
    expect(tooLate.status).toBe(422);
    expect(tooLate.body.detail).toMatch(/cancel instead/);
    expect((await api.request(`/api/v1/bookings/${id}/cancellation-quote`, { headers: student.headers })).body).toMatchObject({
      outcome: 'locked_split',
      studentCreditCents: 5000,
      instructorPayoutCents: 4250,
    });
    const events = await api.database.db.selectFrom('bookingEvents').select('type').where('bookingId', '=', id).orderBy('at').execute();
    // the late reschedule LOCKed the payment: the scheduled authorization was made and captured at once
    expect(events.map((event) => event.type).sort()).toEqual([
      'checkout',
      'confirmed',
      'created',
      'held',
      'locked',
      'payment_authorized',
      'payment_captured',
      'rescheduled',
      'rescheduled',
      'rescheduled',
      'rescheduled',
    ]);
  });

  it('tokens of users that are neither party nor staff never reach another booking (R10)', async () => {
    const instructor = await createBookableInstructor(api, { days: [DAY] });
    const student = await actingUser(api);
    const { body } = await postBooking(api, student.headers, lesson(instructor, '2027-03-04T15:00:00Z'));
    const guest = tokenHeaders(api, student.userId, ['guest']);
    expect((await api.request(`/api/v1/bookings/${body.id}`, { headers: guest })).status).toBe(403);
  });
});
