import { randomInt } from 'node:crypto';
import { type LocationType, roundCents } from './booking-rules.ts';

/**
 * Bookings: types and pure rules (no I/O). Amounts follow spec/payments.md §Amounts; the
 * policy in force is snapshotted onto every booking so later changes never rewrite old deals.
 */

export const BOOKING_STATUSES = ['pending_payment', 'confirmed', 'completed', 'cancelled', 'no_show'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];
export const PAYMENT_STATUSES = ['scheduled', 'authorized', 'locked', 'settled', 'payment_method_required', 'manual_review'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const POLICY_VERSION = 'v2.1.1';
/** How long a new booking holds its time while the student pays. */
export const HOLD_MINUTES = 15;
/** SF = 12% of LP (basis points). */
export const STUDENT_FEE_BPS = 1200;
export const HOUR_MS = 3_600_000;
/** The policy windows on t = lesson start − now (payments.md §Windows). */
export const FULL_WINDOW_MS = 24 * HOUR_MS;
export const LATE_WINDOW_MS = 12 * HOUR_MS;

export type PolicyWindow = 'ge_24h' | 'h12_to_24' | 'lt_12h';

/** Exactly 24 h belongs to the first window, exactly 12 h to the middle one. */
export function policyWindow(startsAtMs: number, nowMs: number): PolicyWindow {
  const t = startsAtMs - nowMs;
  if (t >= FULL_WINDOW_MS) return 'ge_24h';
  if (t >= LATE_WINDOW_MS) return 'h12_to_24';
  return 'lt_12h';
}

export interface BookingAmounts {
  lessonPriceCents: number;
  studentFeeCents: number;
  instructorFeeBps: number;
  instructorFeeCents: number;
  instructorPayoutCents: number;
}

/** SF = round(12% LP), IF = round(tier rate × LP), P = LP − IF; one rounding rule (half away from zero). */
export function bookingAmounts(lessonPriceCents: number, instructorFeeBps: number): BookingAmounts {
  const studentFeeCents = roundCents((lessonPriceCents * STUDENT_FEE_BPS) / 10_000);
  const instructorFeeCents = roundCents((lessonPriceCents * instructorFeeBps) / 10_000);
  return {
    lessonPriceCents,
    studentFeeCents,
    instructorFeeBps,
    instructorFeeCents,
    instructorPayoutCents: lessonPriceCents - instructorFeeCents,
  };
}

/** The policy facts a booking keeps, so its quote never depends on today's settings. */
export function policySnapshot(instructorFeeBps: number, isFounding: boolean) {
  return {
    version: POLICY_VERSION,
    studentFeeBps: STUDENT_FEE_BPS,
    instructorFeeBps,
    instructorTier: isFounding ? 'founding' : `bps_${instructorFeeBps}`,
    holdMinutes: HOLD_MINUTES,
    windowsHours: { full: 24, late: 12 },
    cancellation: {
      student_ge_24h: { creditPctOfLp: 0, instructorPctOfPayout: 0, studentFeeKept: false },
      student_12h_to_24h: { creditPctOfLp: 100, instructorPctOfPayout: 0, studentFeeKept: true },
      student_lt_12h: { creditPctOfLp: 50, instructorPctOfPayout: 50, studentFeeKept: true },
      locked_ge_12h: { creditPctOfLp: 100, instructorPctOfPayout: 0 },
      locked_lt_12h: { creditPctOfLp: 50, instructorPctOfPayout: 50 },
      instructor_any: { fullRefund: true },
    },
    reschedule: { ge_24h: 'unlimited', h12_to_24: 'once, student only, locks', lt_12h: 'refused' },
  };
}

export interface PublicPoint {
  lat: number;
  lng: number;
}

const EARTH_METERS_PER_DEGREE_LAT = 111_320;

/**
 * Moves a point 25–50 m in a random direction with a cryptographic RNG (spec: public locations
 * are jittered), so repeated reads cannot be averaged back to a predictable offset pattern.
 */
export function jitterPoint(point: PublicPoint): PublicPoint {
  const distanceMeters = 25 + randomInt(0, 25_001) / 1000;
  const angle = (randomInt(0, 360_000) / 360_000) * 2 * Math.PI;
  const dLat = (distanceMeters * Math.cos(angle)) / EARTH_METERS_PER_DEGREE_LAT;
  const dLng = (distanceMeters * Math.sin(angle)) / (EARTH_METERS_PER_DEGREE_LAT * Math.cos((point.lat * Math.PI) / 180));
  return { lat: round6(point.lat + dLat), lng: round6(point.lng + dLng) };
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** Who acts on a booking, relative to it. */
export type BookingRole = 'student' | 'instructor' | 'staff';

/** A booking as the API shows it. `location.address` is present only for the two parties. */
export interface BookingView {
  id: string;
  status: BookingStatus;
  paymentStatus: PaymentStatus;
  studentId: string;
  instructorId: string;
  serviceId: string;
  serviceName: string;
  startsAt: string;
  endsAt: string;
  durationMinutes: number;
  holdExpiresAt: string | null;
  location: {
    type: LocationType;
    neighborhood: string | null;
    approximate: PublicPoint | null;
    address: { text: string; lat: number; lng: number } | null;
  };
  studentNote: string | null;
  instructorNote: string | null;
  price: BookingAmounts & { hourlyRateCents: number; cardAmountCents: number; policyVersion: string };
  confirmedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
  cancelledBy: string | null;
  cancellationReason: string | null;
  noShowReportedAt: string | null;
  originalStartsAt: string | null;
  lateRescheduleUsed: boolean;
  lockedAt: string | null;
  rescheduleCount: number;
  createdAt: string;
}

/** A booking row as the queries return it (structural, so this file stays free of I/O imports). */
export interface BookingRecord {
  id: string;
  status: string;
  paymentStatus: string;
  studentId: string;
  instructorId: string;
  serviceId: string;
  serviceName: string;
  startsAt: Date;
  endsAt: Date;
  durationMinutes: number;
  holdExpiresAt: Date | null;
  locationType: string;
  locationAddress: string | null;
  locationPoint: { x: number; y: number } | null;
  neighborhood: string | null;
  studentNote: string | null;
  instructorNote: string | null;
  hourlyRateCents: number;
  lessonPriceCents: number;
  studentFeeCents: number;
  instructorFeeBps: number;
  instructorFeeCents: number;
  instructorPayoutCents: number;
  policyVersion: string;
  confirmedAt: Date | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  cancelledBy: string | null;
  cancellationReason: string | null;
  noShowReportedAt: Date | null;
  originalStartsAt: Date | null;
  lateRescheduleUsed: boolean;
  lockedAt: Date | null;
  rescheduleCount: number;
  createdAt: Date;
}

const iso = (value: Date | null) => (value ? value.toISOString() : null);

/**
 * The API shape of a booking for one viewer. The exact address and point go only to the
 * booking's student and instructor; everyone else (staff included) gets the neighborhood and a
 * point jittered 25–50 m.
 */
export function toBookingView(row: BookingRecord, viewerUserId: string | null): BookingView {
  const isParty = viewerUserId !== null && (viewerUserId === row.studentId || viewerUserId === row.instructorId);
  const point = row.locationPoint ? { lat: row.locationPoint.y, lng: row.locationPoint.x } : null;
  return {
    id: row.id,
    status: row.status as BookingStatus,
    paymentStatus: row.paymentStatus as PaymentStatus,
    studentId: row.studentId,
    instructorId: row.instructorId,
    serviceId: row.serviceId,
    serviceName: row.serviceName,
    startsAt: row.startsAt.toISOString(),
    endsAt: row.endsAt.toISOString(),
    durationMinutes: row.durationMinutes,
    holdExpiresAt: row.status === 'pending_payment' ? iso(row.holdExpiresAt) : null,
    location: {
      type: row.locationType as LocationType,
      neighborhood: row.neighborhood,
      approximate: point ? jitterPoint(point) : null,
      address: isParty && point ? { text: row.locationAddress ?? '', lat: point.lat, lng: point.lng } : null,
    },
    studentNote: row.studentNote,
    instructorNote: row.instructorNote,
    price: {
      hourlyRateCents: row.hourlyRateCents,
      lessonPriceCents: row.lessonPriceCents,
      studentFeeCents: row.studentFeeCents,
      instructorFeeBps: row.instructorFeeBps,
      instructorFeeCents: row.instructorFeeCents,
      instructorPayoutCents: row.instructorPayoutCents,
      cardAmountCents: row.lessonPriceCents + row.studentFeeCents,
      policyVersion: row.policyVersion,
    },
    confirmedAt: iso(row.confirmedAt),
    completedAt: iso(row.completedAt),
    cancelledAt: iso(row.cancelledAt),
    cancelledBy: row.cancelledBy,
    cancellationReason: row.cancellationReason,
    noShowReportedAt: iso(row.noShowReportedAt),
    originalStartsAt: iso(row.originalStartsAt),
    lateRescheduleUsed: row.lateRescheduleUsed,
    lockedAt: iso(row.lockedAt),
    rescheduleCount: row.rescheduleCount,
    createdAt: row.createdAt.toISOString(),
  };
}
