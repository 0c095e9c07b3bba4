import { DateTime } from 'luxon';
import type { MinuteRange } from './bitmap.ts';
import { FUTURE_DAYS, openHoursKey, type OpenHours, PAST_DAYS } from './build-availability.ts';
import { randomPointIn } from './build-people.ts';
import { CANCELLATION_REASONS, INSTRUCTOR_NOTES, NEUTRAL_VENUES, STUDENT_NOTES } from './data/booking-texts.ts';
import { RATING_WEIGHTS, REVIEW_COMMENTS } from './data/reviews.ts';
import type { LocationType } from './data/services.ts';
import type { LngLat } from './geometry.ts';
import {
  DAY_MS,
  formatAddress,
  HOUR_MS,
  type Instructor,
  MINUTE_MS,
  type OfferedService,
  type SeedRows,
  servicePhrase,
  type Student,
  toPoint,
  ZONE,
} from './model.ts';
import { POLICY_VERSION, priceBooking, STUDENT_FEE_BPS } from './money.ts';
import type { Random } from './random.ts';

export type BookingStatus = 'pending_payment' | 'confirmed' | 'completed' | 'cancelled' | 'no_show';
type CancelledBy = 'student' | 'instructor' | 'admin' | 'system';

/**
 * Scripted lessons of the original platform's demo accounts, so logging in as john, emma, sarah
 * or michael shows a believable history and upcoming schedule.
 */
interface Scenario {
  instructor: 'sarah' | 'michael';
  student: 'john' | 'emma';
  service: string;
  locationType: LocationType;
  durationMinutes: number;
  when: 'past' | 'future';
  status: BookingStatus;
  rating?: 1 | 2 | 3 | 4 | 5;
  cancelledBy?: CancelledBy;
}

const DEMO_SCENARIOS: readonly Scenario[] = [
  // John's weekly piano with Sarah, mostly at his apartment on the Upper West Side.
  {
    instructor: 'sarah',
    student: 'john',
    service: 'piano',
    locationType: 'student_location',
    durationMinutes: 60,
    when: 'past',
    status: 'completed',
    rating: 5,
  },
  {
    instructor: 'sarah',
    student: 'john',
    service: 'piano',
    locationType: 'student_location',
    durationMinutes: 60,
    when: 'past',
    status: 'completed',
    rating: 5,
  },
  {
    instructor: 'sarah',
    student: 'john',
    service: 'piano',
    locationType: 'student_location',
    durationMinutes: 60,
    when: 'past',
    status: 'completed',
  },
  {
    instructor: 'sarah',
    student: 'john',
    service: 'piano',
    locationType: 'instructor_location',
    durationMinutes: 60,
    when: 'past',
    status: 'cancelled',
    cancelledBy: 'student',
  },
  {
    instructor: 'sarah',
    student: 'john',
    service: 'piano',
    locationType: 'student_location',
    durationMinutes: 60,
    when: 'future',
    status: 'confirmed',
  },
  {
    instructor: 'sarah',
    student: 'john',
    service: 'piano',
    locationType: 'student_location',
    durationMinutes: 60,
    when: 'future',
    status: 'confirmed',
  },
  {
    instructor: 'sarah',
    student: 'john',
    service: 'piano',
    locationType: 'instructor_location',
    durationMinutes: 45,
    when: 'future',
    status: 'confirmed',
  },
  // Emma's online theory with Sarah.
  {
    instructor: 'sarah',
    student: 'emma',
    service: 'music-theory',
    locationType: 'online',
    durationMinutes: 45,
    when: 'past',
    status: 'completed',
    rating: 4,
  },
  {
    instructor: 'sarah',
    student: 'emma',
    service: 'music-theory',
    locationType: 'online',
    durationMinutes: 60,
    when: 'future',
    status: 'confirmed',
  },
  // Emma's guitar with Michael at home in Park Slope, and a Spanish lesson at checkout right now.
  {
    instructor: 'michael',
    student: 'emma',
    service: 'guitar',
    locationType: 'student_location',
    durationMinutes: 60,
    when: 'past',
    status: 'completed',
    rating: 5,
  },
  {
    instructor: 'michael',
    student: 'emma',
    service: 'guitar',
    locationType: 'student_location',
    durationMinutes: 60,
    when: 'past',
    status: 'completed',
    rating: 5,
  },
  {
    instructor: 'michael',
    student: 'emma',
    service: 'guitar',
    locationType: 'student_location',
    durationMinutes: 45,
    when: 'future',
    status: 'confirmed',
  },
  {
    instructor: 'michael',
    student: 'emma',
    service: 'guitar',
    locationType: 'student_location',
    durationMinutes: 60,
    when: 'future',
    status: 'confirmed',
  },
  {
    instructor: 'michael',
    student: 'emma',
    service: 'spanish',
    locationType: 'online',
    durationMinutes: 60,
    when: 'future',
    status: 'pending_payment',
  },
  // John's online Spanish with Michael, including a no-show under review.
  {
    instructor: 'michael',
    student: 'john',
    service: 'spanish',
    locationType: 'online',
    durationMinutes: 60,
    when: 'past',
    status: 'completed',
    rating: 4,
  },
  {
    instructor: 'michael',
    student: 'john',
    service: 'spanish',
    locationType: 'online',
    durationMinutes: 60,
    when: 'past',
    status: 'no_show',
  },
  {
    instructor: 'michael',
    student: 'john',
    service: 'spanish',
    locationType: 'online',
    durationMinutes: 60,
    when: 'future',
    status: 'confirmed',
  },
  {
    instructor: 'michael',
    student: 'john',
    service: 'spanish',
    locationType: 'online',
    durationMinutes: 90,
    when: 'future',
    status: 'cancelled',
    cancelledBy: 'instructor',
  },
];

const TRAVEL: readonly LocationType[] = ['student_location', 'neutral_location'];
// Booking rules: advance notice 60 min online/studio, 180 min when the instructor travels.
const NOTICE_MINUTES: Record<LocationType, number> = { online: 60, instructor_location: 60, student_location: 180, neutral_location: 180 };
// The seed keeps an instructor's lessons at least an hour apart (≥ any buffer) and a student's 30 min apart.
const INSTRUCTOR_GAP_MS = 60 * MINUTE_MS;
const STUDENT_GAP_MS = 30 * MINUTE_MS;
const HOLD_MS = 15 * MINUTE_MS;

interface Plan {
  instructor: Instructor;
  student: Student;
  offer: OfferedService;
  locationType: LocationType;
  durationMinutes: number;
  startsMs: number;
  endsMs: number;
}

interface Wanted {
  student?: Student;
  offer?: OfferedService;
  locationType?: LocationType;
  durationMinutes?: number;
  /** Past lessons must end by this instant. */
  latestEndMs?: number;
}

interface EventDraft {
  type: string;
  atMs: number;
  actor: 'student' | 'instructor' | 'admin' | 'system';
  data: Record<string, unknown>;
}

interface BookingContext {
  rng: Random;
  nextId: () => string;
  now: Date;
  nowMs: number;
  today: DateTime;
  openHours: OpenHours;
  students: readonly Student[];
  adminId: string;
  instructorBusy: Map<string, [number, number][]>;
  studentBusy: Map<string, [number, number][]>;
  regulars: Map<string, Student[]>;
  rows: Pick<SeedRows, 'bookings' | 'bookingEvents' | 'reviews'>;
  lastLessonMs: Map<string, number>;
}

/**
 * Past and future bookings in every status, each with its event timeline, and reviews of many
 * completed lessons. Lessons never collide: an instructor's lessons are an hour apart or more,
 * a student's never overlap, and future ones lie inside the instructor's open hours.
 */
export function buildBookings(
  rng: Random,
  nextId: () => string,
  input: {
    now: Date;
    today: DateTime;
    openHours: OpenHours;
    instructors: readonly Instructor[];
    students: readonly Student[];
    adminId: string;
  },
): { rows: Pick<SeedRows, 'bookings' | 'bookingEvents' | 'reviews'>; lastLessonAt: Map<string, Date> } {
  const context: BookingContext = {
    rng,
    nextId,
    now: input.now,
    nowMs: input.now.getTime(),
    today: input.today,
    openHours: input.openHours,
    students: input.students,
    adminId: input.adminId,
    instructorBusy: new Map(),
    studentBusy: new Map(),
    regulars: new Map(),
    rows: { bookings: [], bookingEvents: [], reviews: [] },
    lastLessonMs: new Map(),
  };

  for (const scenario of DEMO_SCENARIOS) {
    const instructor = input.instructors.find((candidate) => candidate.demoKey === scenario.instructor);
    const student = input.students.find((candidate) => candidate.demoKey === scenario.student);
    const offer = instructor?.offered.find((candidate) => candidate.service.data.slug === scenario.service);
    if (!instructor || !student || !offer) throw new Error(`demo scenario refers to unknown data: ${JSON.stringify(scenario)}`);
    const plan = findSlot(context, instructor, scenario.when, {
      student,
      offer,
      locationType: scenario.locationType,
      durationMinutes: scenario.durationMinutes,
      latestEndMs: scenario.status === 'completed' ? context.nowMs - DAY_MS - HOUR_MS : context.nowMs,
    });
    if (!plan) continue;
    addBooking(context, plan, scenario.status, {
      cancelledBy: scenario.cancelledBy,
      rating: scenario.rating,
      review: scenario.rating !== undefined,
    });
  }

  for (const instructor of input.instructors) {
    if (!instructor.isLive) continue;
    const isDemo = instructor.demoKey !== null;
    const pastCount = isDemo ? 10 : rng.int(1, 5);
    const futureCount = isDemo ? 10 : rng.int(1, 4);
    for (let index = 0; index < pastCount; index++) {
      const plan = findSlot(context, instructor, 'past', {});
      if (!plan) continue;
      let status = rng.weighted<BookingStatus>([
        ['completed', 82],
        ['cancelled', 11],
        ['no_show', 7],
      ]);
      // Lessons that ended less than a day ago are still awaiting completion and capture.
      if (status === 'completed' && plan.endsMs > context.nowMs - DAY_MS - HOUR_MS) status = 'confirmed';
      addBooking(context, plan, status, { review: status === 'completed' && rng.chance(0.62) });
    }
    for (let index = 0; index < futureCount; index++) {
      const plan = findSlot(context, instructor, 'future', {});
      if (!plan) continue;
      addBooking(
        context,
        plan,
        rng.weighted<BookingStatus>([
          ['confirmed', 87],
          ['cancelled', 10],
          ['pending_payment', 3],
        ]),
        { review: false },
      );
    }
  }

  const lastLessonAt = new Map([...context.lastLessonMs].map(([id, ms]) => [id, new Date(ms)]));
  return { rows: context.rows, lastLessonAt };
}

// ---------------------------------------------------------------------------------------------
// finding a free time

function findSlot(context: BookingContext, instructor: Instructor, when: 'past' | 'future', wanted: Wanted): Plan | null {
  const { rng, nowMs } = context;
  const nowLocal = DateTime.fromMillis(nowMs, { zone: ZONE });
  // Overnight protection: from 20:00 to 08:00, the next morning's early lessons cannot be booked.
  const protectedMorning = nowLocal.hour >= 20 ? nowLocal.plus({ days: 1 }).toISODate() : nowLocal.hour < 8 ? nowLocal.toISODate() : null;

  for (let attempt = 0; attempt < 40; attempt++) {
    const offset = when === 'past' ? rng.int(-PAST_DAYS, 0) : rng.int(0, FUTURE_DAYS - 1);
    const day = context.today.plus({ days: offset });
    const dayIso = day.toISODate() as string;
    const ranges = context.openHours.get(openHoursKey(instructor.userId, dayIso));
    if (!ranges) continue;
    const offer = wanted.offer ?? rng.weighted(instructor.offered.map((candidate, index) => [candidate, index === 0 ? 3 : 1] as const));
    const locationType = wanted.locationType ?? rng.pick(offer.locationTypes);
    const durationMinutes =
      wanted.durationMinutes ?? rng.weighted(offer.durations.map((minutes) => [minutes, minutes === 60 ? 3 : 1] as const));
    const students = wanted.student ? [wanted.student] : candidateStudents(context, instructor, locationType);
    if (students.length === 0) continue;

    const midnightMs = wallClockMidnight(day);
    const earliestStartMs = nowMs + NOTICE_MINUTES[locationType] * MINUTE_MS;
    const cutoffMinute = (TRAVEL.includes(locationType) ? 11 : 9) * 60;
    const busy = context.instructorBusy.get(instructor.userId) ?? [];
    const starts: (readonly [number, number])[] = [];
    for (const minute of candidateMinutes(ranges, durationMinutes)) {
      const startsMs = midnightMs + minute * MINUTE_MS;
      const endsMs = startsMs + durationMinutes * MINUTE_MS;
      if (when === 'past' && endsMs > (wanted.latestEndMs ?? nowMs)) continue;
      if (when === 'future' && (startsMs < earliestStartMs || (dayIso === protectedMorning && minute < cutoffMinute))) continue;
      if (!isFree(busy, startsMs, endsMs, INSTRUCTOR_GAP_MS)) continue;
      starts.push([startsMs, minute % 60 === 0 ? 4 : minute % 30 === 0 ? 2 : 1]);
    }
    if (starts.length === 0) continue;
    const startsMs = rng.weighted(starts);
    const endsMs = startsMs + durationMinutes * MINUTE_MS;
    const student = students.find((candidate) => isFree(context.studentBusy.get(candidate.userId) ?? [], startsMs, endsMs, STUDENT_GAP_MS));
    if (!student) continue;
    return { instructor, student, offer, locationType, durationMinutes, startsMs, endsMs };
  }
  return null;
}

/**
 * The instant of 00:00 on `day` if the day's midday UTC offset held all day. Lessons are between
 * 07:00 and 22:00, after any daylight-saving switch (02:00), so `midnight + minute` is exact for them.
 */
function wallClockMidnight(day: DateTime): number {
  const noon = DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour: 12 }, { zone: ZONE });
  return noon.toMillis() - 12 * HOUR_MS;
}

/** Start minutes on 15-minute steps where the whole lesson fits inside one open range. */
function candidateMinutes(ranges: readonly MinuteRange[], durationMinutes: number): number[] {
  const minutes: number[] = [];
  for (const [start, end] of ranges) {
    for (let minute = Math.ceil(start / 15) * 15; minute + durationMinutes <= end; minute += 15) minutes.push(minute);
  }
  return minutes;
}

function isFree(busy: readonly [number, number][], startsMs: number, endsMs: number, gapMs: number): boolean {
  return busy.every(([busyStart, busyEnd]) => startsMs >= busyEnd + gapMs || endsMs + gapMs <= busyStart);
}

/** Who might book: for home lessons only students living in the service area; otherwise regulars first. */
function candidateStudents(context: BookingContext, instructor: Instructor, locationType: LocationType): Student[] {
  const { rng } = context;
  const areaIds = new Set(instructor.serviceAreas.map((area) => area.id));
  const nearby = context.students.filter((student) => areaIds.has(student.home.neighborhood.id));
  if (locationType === 'student_location') return rng.sample(nearby, 6);
  let regulars = context.regulars.get(instructor.userId);
  if (!regulars) {
    // The demo students' lessons with the demo instructors are scripted; keep them out of the regulars.
    const pool = (nearby.length > 0 ? nearby : context.students).filter((student) => student.demoKey === null);
    regulars = rng.sample(pool, rng.int(1, 3));
    context.regulars.set(instructor.userId, regulars);
  }
  const others = rng.sample(context.students, 6);
  return rng.chance(0.6) ? [...regulars, ...others] : others;
}

// ---------------------------------------------------------------------------------------------
// building one booking

function addBooking(
  context: BookingContext,
  plan: Plan,
  status: BookingStatus,
  options: { cancelledBy?: CancelledBy | undefined; rating?: 1 | 2 | 3 | 4 | 5 | undefined; review: boolean },
): void {
  const { rng, nowMs } = context;
  const { instructor, student, offer, startsMs, endsMs } = plan;
  const id = context.nextId();
  const price = priceBooking(offer.hourlyRateCents, plan.durationMinutes, instructor.tierFeeBps);
  const bufferMinutes = TRAVEL.includes(plan.locationType) ? 60 : 15;
  const location = bookingLocation(context, plan);
  const events: EventDraft[] = [];

  // When it was booked: 3 hours to 3 weeks ahead, never later than a few minutes ago.
  let createdMs = startsMs - rng.int(3 * 60, 21 * 24 * 60) * MINUTE_MS;
  if (createdMs > nowMs - 10 * MINUTE_MS) createdMs = nowMs - rng.int(10, 3 * 24 * 60) * MINUTE_MS;
  if (status === 'pending_payment') createdMs = nowMs - rng.int(1, 10) * MINUTE_MS;
  const cancelledBy = status === 'cancelled' ? chooseCancelledBy(context, options.cancelledBy, startsMs, createdMs) : null;
  if (cancelledBy === 'system' && createdMs + HOLD_MS > nowMs) createdMs = nowMs - rng.int(20, 600) * MINUTE_MS;
  // A system cancellation is either an abandoned checkout (hold expired) or, for a lesson booked
  // more than a day ahead, an authorization that kept failing until T−12h.
  const checkoutExpired = cancelledBy === 'system' && startsMs - 12 * HOUR_MS > nowMs;
  const authorizationFailed = cancelledBy === 'system' && !checkoutExpired;
  const holdExpiresMs = status === 'pending_payment' ? createdMs + HOLD_MS : null;

  const bookedWithinDay = startsMs - createdMs < DAY_MS;
  const confirmedMs = status === 'pending_payment' || checkoutExpired ? null : createdMs + rng.int(20, 180) * 1000;
  // Payment policy: authorize at checkout when the lesson is less than 24 h away, else at T−24h.
  const authorizedMs = confirmedMs === null ? null : bookedWithinDay ? confirmedMs - 5000 : startsMs - DAY_MS;

  events.push({
    type: 'created',
    atMs: createdMs,
    actor: 'student',
    data: {
      startsAt: new Date(startsMs).toISOString(),
      durationMinutes: plan.durationMinutes,
      locationType: plan.locationType,
      lessonPriceCents: price.lessonPriceCents,
      ...(holdExpiresMs === null ? {} : { holdExpiresAt: new Date(holdExpiresMs).toISOString() }),
    },
  });
  if (confirmedMs !== null) events.push({ type: 'confirmed', atMs: confirmedMs, actor: 'system', data: {} });

  let paymentStatus = 'scheduled';
  let completedMs: number | null = null;
  let cancelledMs: number | null = null;
  let cancellationReason: string | null = null;
  let noShowMs: number | null = null;
  let lastEventCapMs = nowMs;

  switch (status) {
    case 'pending_payment':
      break;
    case 'confirmed': {
      paymentStatus = startsMs - nowMs < DAY_MS ? 'authorized' : 'scheduled';
      break;
    }
    case 'completed': {
      const byInstructor = rng.chance(0.8);
      completedMs = byInstructor ? endsMs + rng.int(5, 8 * 60) * MINUTE_MS : endsMs + DAY_MS;
      events.push({
        type: 'completed',
        atMs: completedMs,
        actor: byInstructor ? 'instructor' : 'system',
        data: byInstructor ? {} : { automatic: true },
      });
      // Capture at lesson end + 24 h, then the transfer to the instructor.
      const captureMs = Math.max(endsMs + DAY_MS, completedMs + 1000);
      events.push({
        type: 'payment_captured',
        atMs: captureMs,
        actor: 'system',
        data: { amountCents: price.lessonPriceCents + price.studentFeeCents },
      });
      events.push({
        type: 'payout_transferred',
        atMs: captureMs + 2000,
        actor: 'system',
        data: { amountCents: price.instructorPayoutCents },
      });
      paymentStatus = 'settled';
      break;
    }
    case 'no_show': {
      const latestMs = Math.min(endsMs + 20 * HOUR_MS, nowMs - MINUTE_MS);
      noShowMs = Math.max(startsMs + 15 * MINUTE_MS, latestMs - rng.int(0, 12 * 60) * MINUTE_MS);
      const reporter = rng.chance(0.8) ? 'student' : 'admin';
      events.push({ type: 'no_show_reported', atMs: noShowMs, actor: reporter, data: { missingParty: 'instructor' } });
      events.push({ type: 'payment_frozen', atMs: noShowMs + 1000, actor: 'system', data: { paymentStatus: 'manual_review' } });
      paymentStatus = 'manual_review';
      break;
    }
    case 'cancelled': {
      const by = cancelledBy ?? 'student';
      if (checkoutExpired) {
        cancelledMs = createdMs + HOLD_MS;
        cancellationReason = CANCELLATION_REASONS.system[1] ?? null;
      } else if (authorizationFailed) {
        cancelledMs = startsMs - 12 * HOUR_MS;
        cancellationReason = CANCELLATION_REASONS.system[0] ?? null;
        events.push({
          type: 'payment_authorization_failed',
          atMs: startsMs - DAY_MS,
          actor: 'system',
          data: { paymentStatus: 'payment_method_required' },
        });
      } else {
        const earliest = (confirmedMs ?? createdMs) + 10 * MINUTE_MS;
        const latest = Math.min(startsMs - 15 * MINUTE_MS, nowMs - MINUTE_MS);
        cancelledMs =
          latest > earliest ? earliest + Math.floor(rng.next() * (latest - earliest)) : (confirmedMs ?? createdMs) + 5 * MINUTE_MS;
        cancellationReason = rng.pick(CANCELLATION_REASONS[by]);
      }
      const hoursBefore = (startsMs - cancelledMs) / HOUR_MS;
      events.push({
        type: 'cancelled',
        atMs: cancelledMs,
        actor: by,
        data: {
          cancelledBy: by,
          reason: cancellationReason,
          window: hoursBefore >= 24 ? 'gte_24h' : hoursBefore >= 12 ? '12h_to_24h' : 'lt_12h',
        },
      });
      events.push({ type: 'payment_settled', atMs: cancelledMs + 1000, actor: 'system', data: { outcome: `cancelled_by_${by}` } });
      paymentStatus = 'settled';
      lastEventCapMs = cancelledMs;
      break;
    }
  }
  if (authorizedMs !== null && !authorizationFailed && authorizedMs <= Math.min(nowMs, lastEventCapMs)) {
    events.push({
      type: 'payment_authorized',
      atMs: authorizedMs,
      actor: 'system',
      data: { amountCents: price.lessonPriceCents + price.studentFeeCents },
    });
  }

  let review: { rating: number; comment: string | null; atMs: number } | null = null;
  if (status === 'completed' && options.review && completedMs !== null) {
    const rating = options.rating ?? rng.weighted(RATING_WEIGHTS);
    const atMs = Math.min(completedMs + rng.int(30, 4 * 24 * 60) * MINUTE_MS, nowMs - MINUTE_MS);
    const comment =
      options.rating !== undefined || rng.chance(0.85) ? fillReview(rng.pick(REVIEW_COMMENTS[rating]), instructor, offer) : null;
    review = { rating, comment, atMs };
    events.push({ type: 'review_submitted', atMs, actor: 'student', data: { rating } });
  }

  events.sort((a, b) => a.atMs - b.atMs);
  const updatedMs = events[events.length - 1]?.atMs ?? createdMs;

  context.rows.bookings.push({
    id,
    studentId: student.userId,
    instructorId: instructor.userId,
    serviceId: offer.service.id,
    instructorServiceId: offer.id,
    status,
    startsAt: new Date(startsMs),
    endsAt: new Date(endsMs),
    durationMinutes: plan.durationMinutes,
    bufferMinutes,
    locationType: plan.locationType,
    locationAddress: location?.address ?? null,
    locationPoint: location ? toPoint(location.point) : null,
    locationRegionId: location?.regionId ?? null,
    holdExpiresAt: holdExpiresMs === null ? null : new Date(holdExpiresMs),
    confirmedAt: confirmedMs === null ? null : new Date(confirmedMs),
    completedAt: completedMs === null ? null : new Date(completedMs),
    cancelledAt: cancelledMs === null ? null : new Date(cancelledMs),
    cancelledBy,
    cancellationReason,
    noShowReportedAt: noShowMs === null ? null : new Date(noShowMs),
    studentNote: rng.chance(0.3) ? rng.pick(STUDENT_NOTES) : null,
    instructorNote: status === 'completed' && rng.chance(0.4) ? rng.pick(INSTRUCTOR_NOTES) : null,
    ...price,
    policyVersion: POLICY_VERSION,
    policySnapshot: JSON.stringify({
      policyVersion: POLICY_VERSION,
      studentFeeBps: STUDENT_FEE_BPS,
      instructorFeeBps: price.instructorFeeBps,
      foundingInstructor: instructor.isFounding,
      bufferMinutes,
      cancellationWindowsHours: { full: 24, partial: 12 },
    }),
    paymentStatus,
    originalStartsAt: null,
    lateRescheduleUsed: false,
    lockedAt: null,
    rescheduleCount: 0,
    createdAt: new Date(createdMs),
    updatedAt: new Date(updatedMs),
  });

  for (const event of events) {
    context.rows.bookingEvents.push({
      id: context.nextId(),
      bookingId: id,
      type: event.type,
      actorType: event.actor === 'system' ? 'system' : 'user',
      actorId: actorId(context, plan, event.actor),
      data: JSON.stringify(event.data),
      at: new Date(event.atMs),
    });
  }
  if (review) {
    context.rows.reviews.push({
      id: context.nextId(),
      bookingId: id,
      studentId: student.userId,
      instructorId: instructor.userId,
      rating: review.rating,
      comment: review.comment,
      isHidden: false,
      createdAt: new Date(review.atMs),
    });
  }

  reserve(context.instructorBusy, instructor.userId, startsMs, endsMs);
  reserve(context.studentBusy, student.userId, startsMs, endsMs);
  if (status === 'completed') {
    context.lastLessonMs.set(instructor.userId, Math.max(context.lastLessonMs.get(instructor.userId) ?? 0, endsMs));
  }
}

function chooseCancelledBy(context: BookingContext, wanted: CancelledBy | undefined, startsMs: number, createdMs: number): CancelledBy {
  if (wanted) return wanted;
  const by = context.rng.weighted<CancelledBy>([
    ['student', 55],
    ['instructor', 20],
    ['admin', 8],
    ['system', 17],
  ]);
  // A failed authorization is cancelled at T−12h, which needs a booking made more than a day ahead.
  if (by === 'system' && startsMs - createdMs < DAY_MS && startsMs - 12 * HOUR_MS <= context.nowMs) return 'student';
  return by;
}

function bookingLocation(context: BookingContext, plan: Plan): { address: string; point: LngLat; regionId: string } | null {
  const { instructor, student } = plan;
  switch (plan.locationType) {
    case 'online':
      return null;
    case 'student_location':
      return { address: formatAddress(student.home), point: student.home.point, regionId: student.home.neighborhood.id };
    case 'instructor_location': {
      const studio = instructor.studio;
      if (!studio) throw new Error(`instructor ${instructor.userId} teaches at a studio but has none`);
      return { address: formatAddress(studio), point: studio.point, regionId: studio.neighborhood.id };
    }
    case 'neutral_location': {
      const area = context.rng.pick(instructor.serviceAreas);
      const data = plan.offer.service.data;
      const venues = NEUTRAL_VENUES[data.slug] ?? NEUTRAL_VENUES[data.category] ?? NEUTRAL_VENUES.default ?? [];
      return { address: `${context.rng.pick(venues)}, ${area.name}`, point: randomPointIn(context.rng, area), regionId: area.id };
    }
  }
}

function actorId(context: BookingContext, plan: Plan, actor: EventDraft['actor']): string | null {
  if (actor === 'student') return plan.student.userId;
  if (actor === 'instructor') return plan.instructor.userId;
  if (actor === 'admin') return context.adminId;
  return null;
}

function fillReview(template: string, instructor: Instructor, offer: OfferedService): string {
  return template.replaceAll('{first}', instructor.firstName).replaceAll('{service}', servicePhrase(offer.service.data));
}

function reserve(busy: Map<string, [number, number][]>, key: string, startsMs: number, endsMs: number): void {
  const list = busy.get(key) ?? [];
  list.push([startsMs, endsMs]);
  busy.set(key, list);
}
