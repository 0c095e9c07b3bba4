import { type BookingPayments, type Database, newId } from '@instainstru/db';
import type { Insertable } from 'kysely';
import { bookingAmounts } from '../../src/booking/booking.ts';
import { createCatalogService, createUser } from './factories.ts';

/**
 * Row builders for the payment views and pricing tests: bookings, booking_payments,
 * payment_operations and webhook_events shaped as migration 0005 defines them, inserted directly
 * (the lifecycle that normally writes them is tested on its own).
 */

const HOUR_MS = 3_600_000;

export interface Party {
  id: string;
  firstName: string;
  lastName: string;
}

export async function createPerson(
  database: Database,
  role: 'student' | 'instructor',
  firstName: string,
  lastName: string,
): Promise<Party> {
  const id = await createUser(database, { roles: [role], firstName, lastName });
  if (role === 'instructor') {
    await database.db.insertInto('instructorProfiles').values({ userId: id, bio: 'Teaches well.', isLive: true }).execute();
  }
  return { id, firstName, lastName };
}

const offerings = new Map<string, { serviceId: string; instructorServiceId: string }>();

/** The instructor's one offering (created on first use). */
export async function offeringOf(database: Database, instructorId: string): Promise<{ serviceId: string; instructorServiceId: string }> {
  const known = offerings.get(instructorId);
  if (known) return known;
  const serviceId = await createCatalogService(database, { name: 'Piano' });
  const instructorServiceId = newId();
  await database.db
    .insertInto('instructorServices')
    .values({ id: instructorServiceId, instructorId, serviceId, hourlyRateCents: 12_000 })
    .execute();
  const offering = { serviceId, instructorServiceId };
  offerings.set(instructorId, offering);
  return offering;
}

/** Forget cached offerings after a truncate. */
export function forgetOfferings(): void {
  offerings.clear();
}

export interface LessonRow {
  instructorId: string;
  studentId: string;
  startsAt: Date;
  durationMinutes?: number;
  status?: 'pending_payment' | 'confirmed' | 'completed' | 'cancelled' | 'no_show';
  paymentStatus?: 'scheduled' | 'authorized' | 'locked' | 'settled' | 'payment_method_required' | 'manual_review';
  lessonPriceCents?: number;
  feeBps?: number;
  cancelledBy?: string;
  lockedAt?: Date;
  createdAt?: Date;
}

/** A booking with the snapshot amounts `bookingAmounts` gives (default LP $120 at 15%). */
export async function insertLesson(database: Database, input: LessonRow): Promise<string> {
  const { serviceId, instructorServiceId } = await offeringOf(database, input.instructorId);
  const id = newId();
  const durationMinutes = input.durationMinutes ?? 60;
  const amounts = bookingAmounts(input.lessonPriceCents ?? 12_000, input.feeBps ?? 1500);
  await database.db
    .insertInto('bookings')
    .values({
      id,
      studentId: input.studentId,
      instructorId: input.instructorId,
      serviceId,
      instructorServiceId,
      status: input.status ?? 'confirmed',
      paymentStatus: input.paymentStatus ?? 'scheduled',
      startsAt: input.startsAt,
      endsAt: new Date(input.startsAt.getTime() + durationMinutes * 60_000),
      durationMinutes,
      locationType: 'online',
      hourlyRateCents: 12_000,
      ...amounts,
      cancelledAt: input.status === 'cancelled' ? input.startsAt : null,
      cancelledBy: input.status === 'cancelled' ? (input.cancelledBy ?? 'student') : null,
      completedAt: input.status === 'completed' ? new Date(input.startsAt.getTime() + durationMinutes * 60_000) : null,
      lockedAt: input.lockedAt ?? null,
      createdAt: input.createdAt ?? new Date(input.startsAt.getTime() - 72 * HOUR_MS),
    })
    .execute();
  return id;
}

/** Completed lessons of an instructor ending at each given instant (one hour each, a fresh student each). */
export async function insertCompletedLessons(database: Database, instructorId: string, endsAt: Date[]): Promise<string[]> {
  const ids: string[] = [];
  for (const end of endsAt) {
    const studentId = await createUser(database);
    ids.push(
      await insertLesson(database, {
        instructorId,
        studentId,
        startsAt: new Date(end.getTime() - HOUR_MS),
        status: 'completed',
        paymentStatus: 'settled',
      }),
    );
  }
  return ids;
}

export async function insertPaymentMethod(
  database: Database,
  userId: string,
  input: { brand?: string; last4?: string; provider?: 'stripe' | 'offline' } = {},
) {
  const id = newId();
  await database.db
    .insertInto('paymentMethods')
    .values({
      id,
      userId,
      provider: input.provider ?? 'offline',
      providerPaymentMethodId: `pm_${id.toLowerCase()}`,
      brand: input.brand ?? 'visa',
      last4: input.last4 ?? '4242',
      isDefault: true,
    })
    .execute();
  return id;
}

/** A booking_payments row; the card amount defaults to LP − credits + SF of the booking. */
export async function insertBookingPayment(
  database: Database,
  bookingId: string,
  values: Partial<Omit<Insertable<BookingPayments>, 'bookingId'>> = {},
): Promise<void> {
  const booking = await database.db
    .selectFrom('bookings')
    .select(['lessonPriceCents', 'studentFeeCents', 'startsAt'])
    .where('id', '=', bookingId)
    .executeTakeFirstOrThrow();
  const row = {
    bookingId,
    provider: values.provider ?? 'offline',
    cardAmountCents: values.cardAmountCents ?? booking.lessonPriceCents - (values.creditsAppliedCents ?? 0) + booking.studentFeeCents,
    authorizeAt: values.authorizeAt ?? new Date(booking.startsAt.getTime() - 24 * HOUR_MS),
    ...values,
  };
  await database.db.insertInto('bookingPayments').values(row).execute();
}

export async function insertOperation(
  database: Database,
  input: {
    bookingId?: string | null;
    userId?: string | null;
    provider?: 'stripe' | 'offline';
    purpose: string;
    attempt?: number;
    amountCents?: number | null;
    status?: 'pending' | 'succeeded' | 'failed';
    providerObjectId?: string | null;
    errorCode?: string | null;
    errorMessage?: string | null;
    createdAt: Date;
    completedAt?: Date | null;
    subjectId?: string;
  },
): Promise<string> {
  const id = newId(input.createdAt.getTime());
  const attempt = input.attempt ?? 1;
  await database.db
    .insertInto('paymentOperations')
    .values({
      id,
      bookingId: input.bookingId ?? null,
      userId: input.userId ?? null,
      provider: input.provider ?? 'offline',
      purpose: input.purpose,
      idempotencyKey: `${input.purpose}:${input.subjectId ?? input.bookingId ?? id}:${attempt}`,
      attempt,
      amountCents: input.amountCents ?? null,
      status: input.status ?? 'succeeded',
      providerObjectId: input.providerObjectId ?? null,
      errorCode: input.errorCode ?? null,
      errorMessage: input.errorMessage ?? null,
      request: JSON.stringify({ secret: 'client_secret_never_shown' }),
      response: JSON.stringify({ client_secret: 'seti_secret_never_shown' }),
      createdAt: input.createdAt,
      completedAt: input.completedAt === undefined ? input.createdAt : input.completedAt,
    })
    .execute();
  return id;
}

export async function insertWebhookEvent(
  database: Database,
  input: { id: string; type: string; objectId: string; receivedAt: Date; outcome?: string | null; receiveCount?: number },
): Promise<void> {
  await database.db
    .insertInto('webhookEvents')
    .values({
      id: input.id,
      type: input.type,
      objectId: input.objectId,
      payload: JSON.stringify({ id: input.id, type: input.type, data: { object: { id: input.objectId } } }),
      receivedAt: input.receivedAt,
      receiveCount: input.receiveCount ?? 1,
      processedAt: input.outcome === null ? null : input.receivedAt,
      outcome: input.outcome === undefined ? 'applied' : input.outcome,
    })
    .execute();
}
