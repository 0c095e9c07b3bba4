import { z } from 'zod';
import {
  addInstructorNote,
  BOOKING_STATUSES,
  cancelBooking,
  completeBooking,
  createBooking,
  findBookings,
  getBooking,
  getCancellationQuote,
  LOCATION_TYPES,
  PAYMENT_STATUSES,
  reportNoShow,
  rescheduleBooking,
} from '../../booking/index.ts';
import { providerLabel } from '../../payments/money-deps.ts';
import { CursorParam, LimitParam } from '../../shared/pagination.ts';
import type { ApiDeps } from '../deps.ts';
import { idempotency, idempotencyKeyHeaders } from '../idempotency.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';
import { pageOf } from '../schemas.ts';
import { invalidateAvailability } from './public-availability.ts';

const UtcInstant = z.iso.datetime({ message: 'Use a UTC instant like 2027-03-14T15:00:00Z' });

export const LessonAddressBody = z
  .object({
    line1: z.string().trim().min(1).max(200),
    line2: z.string().trim().max(200).optional(),
    postalCode: z.string().regex(/^\d{5}$/, 'Use a 5-digit ZIP code'),
    lat: z.number().min(40.45).max(40.95).describe('Latitude (New York City)'),
    lng: z.number().min(-74.3).max(-73.65).describe('Longitude (New York City)'),
  })
  .strict()
  .describe('Where the lesson happens; visible only to the student and the instructor');

export const CreateBookingBody = z
  .object({
    instructorId: z.string().min(1).max(64),
    serviceId: z.string().min(1).max(64).describe('Catalog service id'),
    startsAt: UtcInstant.describe('Lesson start, a UTC instant on a quarter hour (from the availability API)'),
    durationMinutes: z.number().int().min(30).max(240),
    locationType: z.enum(LOCATION_TYPES),
    address: LessonAddressBody.optional().describe('Required for student_location and neutral_location, refused otherwise'),
    notes: z.string().trim().max(1000).optional().describe('A note for the instructor'),
  })
  .strict();

const BookingIdParams = z.object({ id: z.string().min(1).max(64).describe('Booking id') }).strict();

export const ListBookingsQuery = z
  .object({
    role: z.enum(['student', 'instructor']).default('student').describe('Lessons you take or lessons you teach'),
    when: z.enum(['upcoming', 'past']).optional().describe('Upcoming (not yet ended, soonest first) or past (latest first)'),
    status: z
      .string()
      .optional()
      .transform((value) => (value ? value.split(',').map((item) => item.trim()) : undefined))
      .pipe(z.array(z.enum(BOOKING_STATUSES)).optional())
      .describe('Comma-separated statuses'),
    limit: LimitParam,
    cursor: CursorParam,
  })
  .strict();

const Point = z.object({ lat: z.number(), lng: z.number() });
const Iso = z.string().nullable();

export const BookingSchema = z
  .object({
    id: z.string(),
    status: z.enum(BOOKING_STATUSES),
    paymentStatus: z.enum(PAYMENT_STATUSES),
    provider: z.enum(['stripe', 'offline']).describe('The payment provider; details at GET /bookings/{id}/payment'),
    offline: z.boolean().describe('True on the embedded default: no real money moves'),
    studentId: z.string(),
    instructorId: z.string(),
    serviceId: z.string(),
    serviceName: z.string(),
    startsAt: z.string(),
    endsAt: z.string(),
    durationMinutes: z.number().int(),
    holdExpiresAt: Iso.describe('Until when a pending_payment booking holds its time'),
    location: z.object({
      type: z.enum(LOCATION_TYPES),
      neighborhood: z.string().nullable(),
      approximate: Point.nullable().describe('Jittered 25–50 m'),
      address: z
        .object({ text: z.string(), lat: z.number(), lng: z.number() })
        .nullable()
        .describe('Exact address: only for the booking’s student and instructor'),
    }),
    studentNote: z.string().nullable(),
    instructorNote: z.string().nullable(),
    price: z.object({
      hourlyRateCents: z.number().int(),
      lessonPriceCents: z.number().int(),
      studentFeeCents: z.number().int(),
      instructorFeeBps: z.number().int(),
      instructorFeeCents: z.number().int(),
      instructorPayoutCents: z.number().int(),
      cardAmountCents: z.number().int(),
      policyVersion: z.string(),
    }),
    confirmedAt: Iso,
    completedAt: Iso,
    cancelledAt: Iso,
    cancelledBy: z.string().nullable(),
    cancellationReason: z.string().nullable(),
    noShowReportedAt: Iso,
    originalStartsAt: Iso,
    lateRescheduleUsed: z.boolean(),
    lockedAt: Iso,
    rescheduleCount: z.number().int(),
    createdAt: z.string(),
  })
  .meta({ id: 'Booking' });

export const BookingDetailSchema = BookingSchema.extend({
  events: z.array(z.object({ type: z.string(), actorType: z.string(), at: z.string() })).describe('The booking’s timeline, oldest first'),
}).meta({ id: 'BookingDetail' });

export const CancellationQuoteSchema = z
  .object({
    outcome: z.enum(['not_cancellable', 'released', 'full_refund', 'late_credit', 'very_late_split', 'locked_credit', 'locked_split']),
    window: z.enum(['ge_24h', 'h12_to_24', 'lt_12h']),
    cardChargedCents: z.number().int(),
    cardRefundCents: z.number().int(),
    studentCreditCents: z.number().int(),
    instructorPayoutCents: z.number().int(),
    feeKeptCents: z.number().int(),
    wording: z.string(),
  })
  .meta({ id: 'CancellationQuote' });

const CancelBody = z.object({ reason: z.string().trim().max(500).optional() }).strict();
const RescheduleBody = z.object({ startsAt: UtcInstant }).strict();
const NoShowBody = z.object({ reason: z.string().trim().max(500).optional() }).strict();
const InstructorNoteBody = z.object({ note: z.string().trim().max(2000).nullable() }).strict();

/** Booking, viewing and managing lessons. Object-level checks live in the use cases (404 for others' bookings). */
export function bookingRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;
  const bookingDeps = { clock: deps.clock, jobs: deps.jobs };
  // Every answer that shows payment state says which provider holds it (payments-shared.md).
  const label = providerLabel(deps.payments);
  const detail = async (req: { principal: Parameters<typeof getBooking>[1] }, id: string) => ({
    ...(await getBooking(db, req.principal, id)),
    ...label,
  });

  api.add(
    {
      method: 'post',
      path: '/bookings',
      operationId: 'createBooking',
      summary: 'Book a lesson (holds the time 15 minutes for checkout: POST /bookings/{id}/checkout)',
      tags: ['bookings'],
      auth: { permission: 'bookings:create' },
      headers: idempotencyKeyHeaders({ required: true }),
      body: CreateBookingBody,
      rateLimit: 'booking',
      responses: {
        201: { description: 'The booking, pending payment until checkout', schema: BookingSchema },
      },
    },
    requirePermission('bookings:create'),
    idempotency(deps, { required: true }),
    async (req, res) => {
      const body = CreateBookingBody.parse(req.body);
      const booking = await createBooking(db, req.auditContext, { ...body, startsAt: new Date(body.startsAt) }, bookingDeps);
      await invalidateAvailability(deps, booking.instructorId);
      res.status(201).json({ ...booking, ...label });
    },
  );

  api.add(
    {
      method: 'get',
      path: '/bookings',
      operationId: 'listBookings',
      summary: 'Your lessons as student or instructor',
      tags: ['bookings'],
      auth: { permission: 'bookings:read:own' },
      query: ListBookingsQuery,
      responses: { 200: { description: 'A page of bookings', schema: pageOf(BookingSchema) } },
    },
    requirePermission('bookings:read:own'),
    async (req, res) => {
      const query = ListBookingsQuery.parse(req.query);
      res.setHeader('Cache-Control', 'private, no-store');
      const page = await findBookings(db, req.principal, query, deps);
      res.json({ ...page, items: page.items.map((item) => ({ ...item, ...label })) });
    },
  );

  api.add(
    {
      method: 'get',
      path: '/bookings/:id',
      operationId: 'getBooking',
      summary: 'One booking with its timeline',
      tags: ['bookings'],
      auth: { permission: 'bookings:read:own' },
      params: BookingIdParams,
      responses: { 200: { description: 'The booking', schema: BookingDetailSchema } },
    },
    requirePermission('bookings:read:own'),
    async (req, res) => {
      const { id } = BookingIdParams.parse(req.params);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(await detail(req, id));
    },
  );

  api.add(
    {
      method: 'get',
      path: '/bookings/:id/cancellation-quote',
      operationId: 'getCancellationQuote',
      summary: 'What cancelling now would cost and refund (the same function the cancellation applies)',
      tags: ['bookings'],
      auth: { permission: 'bookings:cancel:own' },
      params: BookingIdParams,
      responses: { 200: { description: 'The quote', schema: CancellationQuoteSchema } },
    },
    requirePermission('bookings:cancel:own'),
    async (req, res) => {
      const { id } = BookingIdParams.parse(req.params);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(await getCancellationQuote(db, req.principal, id, deps));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/bookings/:id/cancel',
      operationId: 'cancelBooking',
      summary: 'Cancel a booking under the cancellation policy',
      tags: ['bookings'],
      auth: { permission: 'bookings:cancel:own' },
      params: BookingIdParams,
      body: CancelBody,
      responses: {
        200: {
          description: 'The cancelled booking and the quote applied',
          schema: BookingDetailSchema.extend({ quote: CancellationQuoteSchema }),
        },
      },
    },
    requirePermission('bookings:cancel:own'),
    async (req, res) => {
      const { id } = BookingIdParams.parse(req.params);
      const body = CancelBody.parse(req.body ?? {});
      const { instructorId, quote } = await cancelBooking(db, req.auditContext, id, body, deps);
      await invalidateAvailability(deps, instructorId);
      res.json({ ...(await detail(req, id)), quote });
    },
  );

  api.add(
    {
      method: 'post',
      path: '/bookings/:id/reschedule',
      operationId: 'rescheduleBooking',
      summary: 'Move a booking to another start with the same instructor',
      tags: ['bookings'],
      auth: { permission: 'bookings:reschedule:own' },
      params: BookingIdParams,
      body: RescheduleBody,
      responses: { 200: { description: 'The rescheduled booking', schema: BookingDetailSchema } },
    },
    requirePermission('bookings:reschedule:own'),
    async (req, res) => {
      const { id } = BookingIdParams.parse(req.params);
      const body = RescheduleBody.parse(req.body);
      const { instructorId } = await rescheduleBooking(db, req.auditContext, id, { startsAt: new Date(body.startsAt) }, deps);
      await invalidateAvailability(deps, instructorId);
      res.json(await detail(req, id));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/bookings/:id/complete',
      operationId: 'completeBooking',
      summary: 'Mark a lesson you taught as complete (once it has started)',
      tags: ['bookings'],
      auth: { permission: 'bookings:complete:own' },
      params: BookingIdParams,
      responses: { 200: { description: 'The completed booking', schema: BookingDetailSchema } },
    },
    requirePermission('bookings:complete:own'),
    async (req, res) => {
      const { id } = BookingIdParams.parse(req.params);
      await completeBooking(db, req.auditContext, id, deps);
      res.json(await detail(req, id));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/bookings/:id/no-show',
      operationId: 'reportNoShow',
      summary: 'Report that the instructor did not show up (lesson start to end + 24 h)',
      tags: ['bookings'],
      auth: { permission: 'bookings:read:own' },
      params: BookingIdParams,
      body: NoShowBody,
      responses: { 200: { description: 'The booking, payment frozen for review', schema: BookingDetailSchema } },
    },
    requirePermission('bookings:read:own'),
    async (req, res) => {
      const { id } = BookingIdParams.parse(req.params);
      const body = NoShowBody.parse(req.body ?? {});
      await reportNoShow(db, req.auditContext, id, body, deps);
      res.json(await detail(req, id));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/bookings/:id/instructor-note',
      operationId: 'setInstructorNote',
      summary: 'Set your teaching note on a lesson (null clears it)',
      tags: ['bookings'],
      auth: { permission: 'bookings:complete:own' },
      params: BookingIdParams,
      body: InstructorNoteBody,
      responses: { 200: { description: 'The booking', schema: BookingDetailSchema } },
    },
    requirePermission('bookings:complete:own'),
    async (req, res) => {
      const { id } = BookingIdParams.parse(req.params);
      const body = InstructorNoteBody.parse(req.body);
      await addInstructorNote(db, req.auditContext, id, { note: body.note || null }, deps);
      res.json(await detail(req, id));
    },
  );
}
