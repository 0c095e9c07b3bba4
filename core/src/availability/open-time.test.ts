import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { bitmapFromRanges, type MinuteRange } from './bitmap.ts';
import { dayClock, instantOfLocalMinute, localDayAndMinute, PLATFORM_ZONE, weekStart, daysBetween } from './local-time.ts';
import { openIntervalsOfDay } from './open-time.ts';

const iso = (ms: number) => new Date(ms).toISOString();

/** The two DST transition days of each year in New York, found independently with luxon. */
function transitionDays(year: number): { spring: string; fall: string } {
  const found: string[] = [];
  let previous = DateTime.fromObject({ year, month: 1, day: 1 }, { zone: PLATFORM_ZONE });
  for (let date = previous.plus({ days: 1 }); date.year === year; date = date.plus({ days: 1 })) {
    if (date.offset !== previous.offset) found.push(previous.toISODate() ?? '');
    previous = date;
  }
  return { spring: found[0] ?? '', fall: found[1] ?? '' };
}

describe('local days and UTC', () => {
  it('maps an ordinary winter and summer day', () => {
    const winter = dayClock('2027-01-15');
    expect(iso(winter.midnightMs)).toBe('2027-01-15T05:00:00.000Z');
    expect(winter.transitionMinute).toBeNull();
    expect(iso(instantOfLocalMinute(winter, 9 * 60) ?? 0)).toBe('2027-01-15T14:00:00.000Z');
    const summer = dayClock('2027-07-15');
    expect(iso(instantOfLocalMinute(summer, 9 * 60) ?? 0)).toBe('2027-07-15T13:00:00.000Z');
    expect(localDayAndMinute(new Date('2027-07-16T03:30:00Z'))).toEqual({ day: '2027-07-15', minute: 23 * 60 + 30 });
  });

  for (const year of [2026, 2027, 2028, 2029, 2030]) {
    const { spring, fall } = transitionDays(year);

    it(`has a 23-hour spring-forward day on ${spring} whose skipped hour is never open`, () => {
      const clock = dayClock(spring);
      expect((clock.nextMidnightMs - clock.midnightMs) / 3_600_000).toBe(23);
      expect(clock.transitionMinute).toBe(120);
      for (let minute = 120; minute < 180; minute += 1) expect(instantOfLocalMinute(clock, minute)).toBeNull();
      expect(iso(instantOfLocalMinute(clock, 119) ?? 0)).toBe(
        DateTime.fromISO(`${spring}T01:59`, { zone: PLATFORM_ZONE }).toUTC().toISO({ suppressMilliseconds: false }),
      );
      expect(iso(instantOfLocalMinute(clock, 180) ?? 0)).toBe(DateTime.fromISO(`${spring}T03:00`, { zone: PLATFORM_ZONE }).toUTC().toISO());

      const wholeDay = openIntervalsOfDay(spring, bitmapFromRanges([{ start: 0, end: 1440 }]));
      const openMinutes = wholeDay.reduce((sum, interval) => sum + (interval.endMs - interval.startMs) / 60_000, 0);
      expect(openMinutes).toBe(23 * 60);
      // 01:00–04:00 local is 2 real hours that day
      const night = openIntervalsOfDay(spring, bitmapFromRanges([{ start: 60, end: 240 }]));
      expect(night).toEqual([{ startMs: instantOfLocalMinute(clock, 60), endMs: (instantOfLocalMinute(clock, 239) ?? 0) + 60_000 }]);
      expect(((night[0]?.endMs ?? 0) - (night[0]?.startMs ?? 0)) / 60_000).toBe(120);
    });

    it(`has a 25-hour fall-back day on ${fall} whose repeated hour counts once, at its first occurrence`, () => {
      const clock = dayClock(fall);
      expect((clock.nextMidnightMs - clock.midnightMs) / 3_600_000).toBe(25);
      expect(clock.transitionMinute).toBe(120);
      // 01:30 EDT (UTC−4) is the first of the two 01:30s
      const firstOneThirty = DateTime.fromISO(`${fall}T01:30:00-04:00`).toUTC();
      expect(iso(instantOfLocalMinute(clock, 90) ?? 0)).toBe(firstOneThirty.toISO());
      expect(firstOneThirty.setZone(PLATFORM_ZONE).offset).toBe(-240);
      // 02:00 after the change is 07:00 UTC, one hour after 01:00 EDT
      expect(iso(instantOfLocalMinute(clock, 120) ?? 0)).toBe(DateTime.fromISO(`${fall}T07:00`, { zone: 'UTC' }).toISO());

      const wholeDay = openIntervalsOfDay(fall, bitmapFromRanges([{ start: 0, end: 1440 }]));
      const openMinutes = wholeDay.reduce((sum, interval) => sum + (interval.endMs - interval.startMs) / 60_000, 0);
      expect(openMinutes).toBe(24 * 60);
      // the second 01:xx (EST) is closed
      const secondOneThirty = firstOneThirty.plus({ hours: 1 }).toMillis();
      expect(wholeDay.some((interval) => interval.startMs <= secondOneThirty && secondOneThirty < interval.endMs)).toBe(false);
    });
  }

  it('never opens a minute outside the bitmap on any day of 2026–2030 (sampled property)', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const days: string[] = [];
    for (const year of [2026, 2027, 2028, 2029, 2030]) {
      const { spring, fall } = transitionDays(year);
      days.push(spring, fall, `${year}-06-01`, `${year}-12-24`);
    }
    for (const day of days) {
      for (let trial = 0; trial < 20; trial += 1) {
        const ranges: MinuteRange[] = [];
        for (let index = 0; index < 3; index += 1) {
          const start = Math.floor(random() * 1400);
          ranges.push({ start, end: Math.min(1440, start + 1 + Math.floor(random() * 300)) });
        }
        const bits = bitmapFromRanges(ranges);
        const clock = dayClock(day);
        const intervals = openIntervalsOfDay(day, bits, PLATFORM_ZONE, clock);
        for (const interval of intervals) {
          for (let ms = interval.startMs; ms < interval.endMs; ms += 60_000) {
            const { day: localDay, minute } = localDayAndMinute(ms);
            expect(localDay).toBe(day);
            expect(ranges.some((range) => range.start <= minute && minute < range.end)).toBe(true);
            // the instant is the first occurrence of its wall-clock minute
            expect(instantOfLocalMinute(clock, minute)).toBe(ms);
          }
        }
      }
    }
  });

  it('finds the Monday of a week and lists days', () => {
    expect(weekStart('2027-03-14')).toBe('2027-03-08');
    expect(weekStart('2027-03-08')).toBe('2027-03-08');
    expect(daysBetween('2027-02-27', '2027-03-02')).toEqual(['2027-02-27', '2027-02-28', '2027-03-01', '2027-03-02']);
  });
});
