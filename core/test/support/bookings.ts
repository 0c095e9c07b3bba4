import { newId } from '@instainstru/db';
import { sql } from 'kysely';
import { bitmapFromRanges } from '../../src/availability/bitmap.ts';
import { issueAccessToken } from '../../src/auth/own-tokens.ts';
import type { TestApi } from './api.ts';
import { bearer } from './auth.ts';
import { createCatalogService, createUser } from './factories.ts';
import { type OfflineTestCardId, saveTestCard } from './payments.ts';

/**
 * Booking-test helpers. Access tokens are issued with the app's own keys (no Argon2 sign-in per
 * user), so a test can act as a hundred different students cheaply; they verify like real ones.
 */
export function tokenHeaders(api: TestApi, userId: string, roles: string[]): Record<string, string> {
  const sessionId = newId();
  // a getter: every request gets a token issued at the (test) clock's current time
  return Object.defineProperty({}, 'authorization', {
    enumerable: true,
    get: () =>
      bearer(issueAccessToken(api.deps.auth.keys, api.deps.auth.config, { userId, sessionId, roles }, api.deps.clock.now())).authorization,
  }) as Record<string, string>;
}

/** A new user with the role and request headers that act as them. */
export async function actingUser(api: TestApi, role: 'student' | 'instructor' | 'admin' = 'student') {
  const userId = await createUser(api.database, { roles: [role] });
  return { userId, headers: tokenHeaders(api, userId, [role]) };
}

/** A square region (borough or neighborhood) around a centre point, side ≈ 2·half degrees. */
export async function createRegion(
  api: TestApi,
  input: { name: string; kind?: 'borough' | 'neighborhood'; parentId?: string | null; lat: number; lng: number; half?: number },
): Promise<string> {
  const id = newId();
  const half = input.half ?? 0.01;
  const { lat, lng } = input;
  const polygon = `((${lng - half},${lat - half}),(${lng + half},${lat - half}),(${lng + half},${lat + half}),(${lng - half},${lat + half}))`;
  await sql`
    insert into regions (id, kind, name, slug, borough, parent_id, boundary, centroid)
    values (${id}, ${input.kind ?? 'neighborhood'}, ${input.name}, ${`${input.name.toLowerCase().replace(/\W+/g, '-')}-${id.slice(-6).toLowerCase()}`},
      'Manhattan', ${input.parentId ?? null}, ${polygon}::polygon, point(${lng}, ${lat}))
  `.execute(api.database.db);
  return id;
}

export interface BookableInstructor {
  instructorId: string;
  serviceId: string;
  headers: Record<string, string>;
}

/** A live instructor offering one service, with open hours on the given local days. */
export async function createBookableInstructor(
  api: TestApi,
  input: {
    serviceId?: string;
    hourlyRateCents?: number;
    durations?: number[];
    locationTypes?: string[];
    days: string[];
    /** Local minutes open each day (default 09:00–21:00). */
    ranges?: Array<{ start: number; end: number }>;
    isFounding?: boolean;
    tierFeeBps?: number;
    serviceAreaIds?: string[];
    studio?: { lat: number; lng: number; address: string };
  },
): Promise<BookableInstructor> {
  const serviceId = input.serviceId ?? (await createCatalogService(api.database, { name: 'Piano' }));
  const instructorId = await createUser(api.database, { firstName: 'Ada', lastName: 'Lovelace', roles: ['instructor'] });
  await api.database.db
    .insertInto('instructorProfiles')
    .values({
      userId: instructorId,
      isLive: true,
      isFounding: input.isFounding ?? false,
      foundingNumber: input.isFounding ? Math.floor(Math.random() * 100) + 1 : null,
      tierFeeBps: input.tierFeeBps ?? 1500,
      studioAddress: input.studio?.address ?? null,
      studioLocation: input.studio ? sql<string>`point(${input.studio.lng}, ${input.studio.lat})` : null,
    })
    .execute();
  await api.database.db
    .insertInto('instructorServices')
    .values({
      id: newId(),
      instructorId,
      serviceId,
      hourlyRateCents: input.hourlyRateCents ?? 9000,
      durations: input.durations ?? [30, 60, 90],
      locationTypes: input.locationTypes ?? ['online', 'instructor_location', 'student_location', 'neutral_location'],
    })
    .execute();
  for (const regionId of input.serviceAreaIds ?? []) {
    await api.database.db.insertInto('instructorServiceAreas').values({ instructorId, regionId }).execute();
  }
  const bits = Buffer.from(bitmapFromRanges(input.ranges ?? [{ start: 9 * 60, end: 21 * 60 }]));
  if (input.days.length > 0) {
    await api.database.db
      .insertInto('availabilityDays')
      .values(input.days.map((day) => ({ instructorId, day, bits })))
      .execute();
  }
  return { instructorId, serviceId, headers: tokenHeaders(api, instructorId, ['instructor']) };
}

let keyCounter = 0;

/** POST /api/v1/bookings with a fresh (or given) Idempotency-Key. */
export function postBooking(api: TestApi, headers: Record<string, string>, json: unknown, key?: string) {
  keyCounter += 1;
  return api.request('/api/v1/bookings', {
    method: 'POST',
    json,
    headers: { ...headers, 'idempotency-key': key ?? `test-${Date.now()}-${keyCounter}-${Math.random()}` },
  });
}

/** Rate limits off: these tests are about bookings, not the limiter. */
export const BOOKING_TEST_ENV = {
  RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' }, booking: { mode: 'off' } }),
};

/**
 * Books a lesson and checks it out with a saved offline card (saved once per student; the first
 * card is the default), as the storefront does: POST /bookings, then POST /bookings/{id}/checkout.
 * A lesson 24 h or more away comes back confirmed with its payment scheduled; a nearer one is
 * authorized at checkout. Answers the checkout response (or the booking's refusal).
 */
export async function postConfirmedBooking(
  api: TestApi,
  headers: Record<string, string>,
  json: unknown,
  options: { card?: string; applyCredits?: boolean } = {},
) {
  const booked = await postBooking(api, headers, json);
  if (booked.status !== 201) return { ...booked, bookingId: null };
  const studentId = booked.body.studentId as string;
  const saved = await api.database.db
    .selectFrom('paymentMethods')
    .select('id')
    .where('userId', '=', studentId)
    .where('detachedAt', 'is', null)
    .where('providerPaymentMethodId', 'like', `${options.card ?? 'pm_offline_visa'}%`)
    .executeTakeFirst();
  const cardId = saved?.id ?? (await saveTestCard(api, headers, (options.card ?? 'pm_offline_visa') as OfflineTestCardId)).id;
  const checkout = await checkOut(api, headers, booked.body.id, {
    paymentMethodId: cardId,
    ...(options.applyCredits === undefined ? {} : { applyCredits: options.applyCredits }),
  });
  return { ...checkout, bookingId: booked.body.id as string };
}

/** POST /api/v1/bookings/{id}/checkout with a fresh (or given) Idempotency-Key. */
export function checkOut(api: TestApi, headers: Record<string, string>, bookingId: string, json: unknown = {}, key?: string) {
  keyCounter += 1;
  return api.request(`/api/v1/bookings/${bookingId}/checkout`, {
    method: 'POST',
    json,
    headers: { ...headers, 'idempotency-key': key ?? `checkout-${Date.now()}-${keyCounter}-${Math.random()}` },
  });
}
