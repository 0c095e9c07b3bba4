import { describe, expect, it } from 'vitest';
import { bitmapFromRanges } from '../availability/bitmap.ts';
import { openIntervalsOfDay } from '../availability/open-time.ts';
import {
  bookableStarts,
  type InstructorContext,
  lessonPriceCents,
  overnightCutoffMs,
  roundCents,
  type SlotRequest,
  startViolation,
} from './booking-rules.ts';

const at = (iso: string) => new Date(iso).getTime();
// 2027-03-03 is a Wednesday in EST (UTC−5): 09:00 local = 14:00Z
const DAY = '2027-03-03';
const nineToFive = openIntervalsOfDay(DAY, bitmapFromRanges([{ start: 9 * 60, end: 17 * 60 }]));
const NOW = at('2027-03-02T15:00:00Z'); // Tuesday 10:00 local, the day before

function context(overrides: Partial<InstructorContext> = {}): InstructorContext {
  return {
    openIntervals: nineToFive,
    busy: [],
    offering: {
      hourlyRateCents: 9000,
      durations: [30, 45, 60, 90],
      locationTypes: ['online', 'instructor_location', 'student_location', 'neutral_location'],
    },
    ...overrides,
  };
}
const online60: SlotRequest = { durationMinutes: 60, locationType: 'online' };

describe('rounding and price', () => {
  it.each([
    [0.5, 1],
    [1.5, 2],
    [2.5, 3],
    [-0.5, -1],
    [-2.5, -3],
    [1439.9999, 1440],
  ])('rounds %d half away from zero to %d', (value, expected) => {
    expect(roundCents(value)).toBe(expected);
  });

  it.each([
    [12000, 60, 12000],
    [12000, 45, 9000],
    [9999, 45, 7499], // 7499.25
    [10001, 30, 5001], // 5000.5 → 5001
    [8333, 90, 12500], // 12499.5 → 12500
  ])('prices %d¢/h for %d minutes at %d¢', (rate, minutes, expected) => {
    expect(lessonPriceCents(rate, minutes)).toBe(expected);
  });
});

describe('startViolation: one rule at a time', () => {
  it.each([
    {
      name: 'an open, well-noticed quarter-hour start is bookable',
      start: '2027-03-03T14:00:00Z',
      request: online60,
      ctx: {},
      expected: null,
    },
    { name: 'the last start that fits before 17:00', start: '2027-03-03T21:00:00Z', request: online60, ctx: {}, expected: null },
    { name: 'a lesson running past closing', start: '2027-03-03T21:15:00Z', request: online60, ctx: {}, expected: 'not_open' },
    { name: 'before opening', start: '2027-03-03T13:45:00Z', request: online60, ctx: {}, expected: 'not_open' },
    { name: 'off the 15-minute grid', start: '2027-03-03T14:10:00Z', request: online60, ctx: {}, expected: 'not_on_step' },
    {
      name: 'a duration under 30 minutes',
      start: '2027-03-03T14:00:00Z',
      request: { durationMinutes: 15, locationType: 'online' },
      ctx: {},
      expected: 'duration_out_of_range',
    },
    {
      name: 'a duration over 240 minutes',
      start: '2027-03-03T14:00:00Z',
      request: { durationMinutes: 255, locationType: 'online' },
      ctx: {},
      expected: 'duration_out_of_range',
    },
    {
      name: 'a duration the instructor does not offer',
      start: '2027-03-03T14:00:00Z',
      request: { durationMinutes: 120, locationType: 'online' },
      ctx: {},
      expected: 'duration_not_offered',
    },
    {
      name: 'a location type the instructor does not offer',
      start: '2027-03-03T14:00:00Z',
      request: online60,
      ctx: { offering: { hourlyRateCents: 9000, durations: [60], locationTypes: ['student_location'] } },
      expected: 'location_type_not_offered',
    },
    {
      name: 'online below the $60/h floor',
      start: '2027-03-03T14:00:00Z',
      request: online60,
      ctx: { offering: { hourlyRateCents: 5999, durations: [60], locationTypes: ['online'] } },
      expected: 'below_price_floor',
    },
    {
      name: 'online exactly at the $60/h floor',
      start: '2027-03-03T14:00:00Z',
      request: online60,
      ctx: { offering: { hourlyRateCents: 6000, durations: [60], locationTypes: ['online'] } },
      expected: null,
    },
    {
      name: 'in person below the $80/h floor',
      start: '2027-03-03T14:00:00Z',
      request: { durationMinutes: 60, locationType: 'instructor_location' },
      ctx: { offering: { hourlyRateCents: 7999, durations: [60], locationTypes: ['instructor_location'] } },
      expected: 'below_price_floor',
    },
    {
      name: 'travel outside the service area',
      start: '2027-03-03T14:00:00Z',
      request: { durationMinutes: 60, locationType: 'student_location' },
      ctx: { insideServiceArea: false },
      expected: 'outside_service_area',
    },
    {
      name: 'neutral place outside the service area',
      start: '2027-03-03T14:00:00Z',
      request: { durationMinutes: 60, locationType: 'neutral_location' },
      ctx: { insideServiceArea: false },
      expected: 'outside_service_area',
    },
  ] as const)('$name', ({ start, request, ctx, expected }) => {
    expect(startViolation(at(start), NOW, request, context(ctx as Partial<InstructorContext>))).toBe(expected);
  });

  it.each([
    { location: 'online', minutesAhead: 60, expected: null },
    { location: 'online', minutesAhead: 45, expected: 'too_soon' },
    { location: 'instructor_location', minutesAhead: 60, expected: null },
    { location: 'student_location', minutesAhead: 180, expected: null },
    { location: 'student_location', minutesAhead: 165, expected: 'too_soon' },
    { location: 'neutral_location', minutesAhead: 165, expected: 'too_soon' },
  ] as const)('advance notice: $location $minutesAhead min ahead → $expected', ({ location, minutesAhead, expected }) => {
    const start = at('2027-03-03T18:00:00Z'); // 13:00 local
    expect(startViolation(start, start - minutesAhead * 60_000, { durationMinutes: 60, locationType: location }, context())).toBe(expected);
  });

  it('refuses starts more than 365 days ahead', () => {
    const start = at('2027-03-03T14:00:00Z');
    const open = context({ openIntervals: [{ startMs: start, endMs: start + 3_600_000 }] });
    expect(startViolation(start, start - 365 * 86_400_000, online60, open)).toBeNull();
    expect(startViolation(start, start - 365 * 86_400_000 - 15 * 60_000, online60, open)).toBe('beyond_horizon');
  });
});

describe('buffers around other lessons', () => {
  const lesson = { startMs: at('2027-03-03T16:00:00Z'), endMs: at('2027-03-03T17:00:00Z'), bufferMinutes: 15 };
  it.each([
    { start: '2027-03-03T17:15:00Z', location: 'online', busy: lesson, expected: null },
    { start: '2027-03-03T17:00:00Z', location: 'online', busy: lesson, expected: 'conflicts_with_booking' },
    { start: '2027-03-03T14:45:00Z', location: 'online', busy: lesson, expected: null },
    { start: '2027-03-03T15:00:00Z', location: 'online', busy: lesson, expected: 'conflicts_with_booking' },
    // travel on either side needs 60 minutes
    { start: '2027-03-03T17:15:00Z', location: 'student_location', busy: lesson, expected: 'conflicts_with_booking' },
    { start: '2027-03-03T18:00:00Z', location: 'student_location', busy: lesson, expected: null },
    { start: '2027-03-03T17:45:00Z', location: 'online', busy: { ...lesson, bufferMinutes: 60 }, expected: 'conflicts_with_booking' },
    { start: '2027-03-03T18:00:00Z', location: 'online', busy: { ...lesson, bufferMinutes: 60 }, expected: null },
  ] as const)(
    '$location at $start next to a lesson with a $busy.bufferMinutes-minute buffer → $expected',
    ({ start, location, busy, expected }) => {
      expect(startViolation(at(start), NOW, { durationMinutes: 60, locationType: location }, context({ busy: [busy] }))).toBe(expected);
    },
  );

  it("refuses a time that overlaps the student's own lesson with another instructor, adjacent is fine", () => {
    const studentBusy = [{ startMs: at('2027-03-03T15:00:00Z'), endMs: at('2027-03-03T16:00:00Z') }];
    expect(startViolation(at('2027-03-03T15:30:00Z'), NOW, online60, context({ studentBusy }))).toBe('student_double_booked');
    expect(startViolation(at('2027-03-03T16:00:00Z'), NOW, online60, context({ studentBusy }))).toBeNull();
    expect(startViolation(at('2027-03-03T14:00:00Z'), NOW, online60, context({ studentBusy }))).toBeNull();
  });
});

describe('overnight protection', () => {
  // Night of Tue 2027-03-02 → Wed 2027-03-03 (EST): 09:00 local = 14:00Z, 11:00 local = 16:00Z
  const openAllDay = context({ openIntervals: openIntervalsOfDay(DAY, bitmapFromRanges([{ start: 0, end: 1440 }])) });
  it.each([
    { now: '2027-03-03T01:00:00Z', start: '2027-03-03T13:45:00Z', location: 'online', expected: 'overnight_protection' }, // 20:00 → 08:45
    { now: '2027-03-03T01:00:00Z', start: '2027-03-03T14:00:00Z', location: 'online', expected: null }, // 09:00 ok
    { now: '2027-03-03T10:00:00Z', start: '2027-03-03T13:45:00Z', location: 'online', expected: 'overnight_protection' }, // 05:00 same morning
    { now: '2027-03-03T00:59:00Z', start: '2027-03-03T13:45:00Z', location: 'online', expected: null }, // 19:59 is not night
    { now: '2027-03-03T13:00:00Z', start: '2027-03-03T14:00:00Z', location: 'online', expected: null }, // 08:00 is not night
    { now: '2027-03-03T01:00:00Z', start: '2027-03-03T15:45:00Z', location: 'student_location', expected: 'overnight_protection' }, // travel: before 11:00
    { now: '2027-03-03T01:00:00Z', start: '2027-03-03T16:00:00Z', location: 'student_location', expected: null },
  ] as const)('at $now a $location lesson at $start → $expected', ({ now, start, location, expected }) => {
    const request = { durationMinutes: 60, locationType: location } as const;
    expect(startViolation(at(start), at(now), request, openAllDay)).toBe(expected);
  });

  it('has no cutoff during the day', () => {
    expect(overnightCutoffMs(at('2027-03-02T17:00:00Z'), 'online')).toBeNull();
  });
});

describe('bookableStarts agrees with startViolation', () => {
  it('lists 15-minute starts within the open hours and skips buffered conflicts', () => {
    const busy = [{ startMs: at('2027-03-03T16:00:00Z'), endMs: at('2027-03-03T17:00:00Z'), bufferMinutes: 15 }];
    const ctx = context({ busy });
    const starts = bookableStarts(at('2027-03-03T00:00:00Z'), at('2027-03-04T00:00:00Z'), NOW, online60, ctx).map((ms) =>
      new Date(ms).toISOString().slice(11, 16),
    );
    expect(starts).toEqual([
      '14:00',
      '14:15',
      '14:30',
      '14:45',
      '17:15',
      '17:30',
      '17:45',
      '18:00',
      '18:15',
      '18:30',
      '18:45',
      '19:00',
      '19:15',
      '19:30',
      '19:45',
      '20:00',
      '20:15',
      '20:30',
      '20:45',
      '21:00',
    ]);
  });

  it('returns nothing when the offering itself is not bookable, and honours the limit', () => {
    expect(
      bookableStarts(
        at('2027-03-03T00:00:00Z'),
        at('2027-03-04T00:00:00Z'),
        NOW,
        { durationMinutes: 120, locationType: 'online' },
        context(),
      ),
    ).toEqual([]);
    expect(bookableStarts(at('2027-03-03T00:00:00Z'), at('2027-03-04T00:00:00Z'), NOW, online60, context(), 1)).toEqual([
      at('2027-03-03T14:00:00Z'),
    ]);
  });

  it('every listed start passes the validator and every unlisted quarter hour fails it (sampled)', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    for (let trial = 0; trial < 40; trial += 1) {
      const busy = Array.from({ length: 3 }, () => {
        const startMs = at('2027-03-03T14:00:00Z') + Math.floor(random() * 32) * 15 * 60_000;
        return { startMs, endMs: startMs + 45 * 60_000, bufferMinutes: random() < 0.3 ? 60 : 15 };
      });
      const request: SlotRequest = {
        durationMinutes: [30, 45, 60, 90][trial % 4] ?? 60,
        locationType: trial % 3 === 0 ? 'student_location' : 'online',
      };
      const ctx = context({ busy });
      const windowStart = at('2027-03-03T05:00:00Z');
      const windowEnd = at('2027-03-04T05:00:00Z');
      const listed = new Set(bookableStarts(windowStart, windowEnd, NOW, request, ctx));
      for (let start = windowStart; start < windowEnd; start += 15 * 60_000) {
        expect(startViolation(start, NOW, request, ctx) === null).toBe(listed.has(start));
      }
    }
  });
});
