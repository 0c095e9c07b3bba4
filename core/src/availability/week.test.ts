import { describe, expect, it } from 'vitest';
import { AppError } from '../shared/errors.ts';
import { bitmapFromRanges, emptyBitmap, isMinuteOpen } from './bitmap.ts';
import { ifMatchAccepts, weekEtag } from './get-week.ts';
import { AVAILABILITY_PRESETS } from './presets.ts';
import {
  assertWeekStart,
  bitmapFromTimeRanges,
  bitmapsOfPattern,
  minuteOfClockTime,
  timeRangesFromBitmap,
  weekDays,
  weekdayOf,
} from './week.ts';

function fieldOf(run: () => unknown): string | null | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error.field;
    throw error;
  }
  return undefined;
}

describe('clock times', () => {
  it.each([
    ['00:00', 0],
    ['09:30', 570],
    ['23:59', 1439],
    ['24:00', 1440],
    ['24:01', null],
    ['25:00', null],
    ['12:60', null],
    ['9:30', null],
    ['09:30:00', null],
    ['', null],
  ])('%s → %s', (time, minute) => {
    expect(minuteOfClockTime(time)).toBe(minute);
  });
});

describe('ranges ↔ bitmap', () => {
  it('sets exactly the minutes of each range, end exclusive', () => {
    const bits = bitmapFromTimeRanges(
      [
        { start: '09:00', end: '09:01' },
        { start: '23:59', end: '24:00' },
      ],
      'ranges',
    );
    expect(isMinuteOpen(bits, 539)).toBe(false);
    expect(isMinuteOpen(bits, 540)).toBe(true);
    expect(isMinuteOpen(bits, 541)).toBe(false);
    expect(isMinuteOpen(bits, 1439)).toBe(true);
  });

  it('merges overlapping and touching ranges and sorts them', () => {
    const bits = bitmapFromTimeRanges(
      [
        { start: '13:00', end: '15:00' },
        { start: '09:00', end: '10:30' },
        { start: '10:00', end: '11:00' },
        { start: '15:00', end: '15:07' },
      ],
      'ranges',
    );
    expect(timeRangesFromBitmap(bits)).toEqual([
      { start: '09:00', end: '11:00' },
      { start: '13:00', end: '15:07' },
    ]);
  });

  it('round-trips odd minute ranges and the whole day', () => {
    const ranges = [
      { start: '00:00', end: '00:01' },
      { start: '07:13', end: '08:47' },
      { start: '22:01', end: '24:00' },
    ];
    expect(timeRangesFromBitmap(bitmapFromTimeRanges(ranges, 'ranges'))).toEqual(ranges);
    expect(timeRangesFromBitmap(bitmapFromTimeRanges([{ start: '00:00', end: '24:00' }], 'ranges'))).toEqual([
      { start: '00:00', end: '24:00' },
    ]);
    expect(timeRangesFromBitmap(bitmapFromTimeRanges([], 'ranges'))).toEqual([]);
  });

  it('names the range at fault', () => {
    expect(
      fieldOf(() =>
        bitmapFromTimeRanges(
          [
            { start: '09:00', end: '10:00' },
            { start: '11:00', end: '11:00' },
          ],
          'days.2.ranges',
        ),
      ),
    ).toBe('days.2.ranges.1.end');
    expect(fieldOf(() => bitmapFromTimeRanges([{ start: '12:00', end: '09:00' }], 'r'))).toBe('r.0.end');
    expect(fieldOf(() => bitmapFromTimeRanges([{ start: '24:00', end: '24:00' }], 'r'))).toBe('r.0.start');
    expect(fieldOf(() => bitmapFromTimeRanges([{ start: '08:00', end: '8:30' }], 'r'))).toBe('r.0.end');
  });
});

describe('weeks', () => {
  it('start on Monday and have seven days across month and year ends', () => {
    expect(weekDays('2027-12-27')).toEqual([
      '2027-12-27',
      '2027-12-28',
      '2027-12-29',
      '2027-12-30',
      '2027-12-31',
      '2028-01-01',
      '2028-01-02',
    ]);
    expect(weekdayOf('2028-01-02')).toBe('sun');
    expect(fieldOf(() => assertWeekStart('2027-03-01', 'weekStart'))).toBeUndefined();
    expect(fieldOf(() => assertWeekStart('2027-03-02', 'weekStart'))).toBe('weekStart');
    expect(fieldOf(() => assertWeekStart('2027-02-30', 'weekStart'))).toBe('weekStart');
  });

  it('turn a pattern into one bitmap per weekday', () => {
    const weekends = AVAILABILITY_PRESETS.find((preset) => preset.id === 'weekends');
    const bitmaps = bitmapsOfPattern(weekends?.pattern ?? ({} as never), 'pattern');
    expect(timeRangesFromBitmap(bitmaps.sat)).toEqual([{ start: '09:00', end: '17:00' }]);
    expect(timeRangesFromBitmap(bitmaps.mon)).toEqual([]);
  });
});

describe('week ETag', () => {
  const week = Array.from({ length: 7 }, () => emptyBitmap());

  it('is a strong quoted tag that changes with any single minute of any day', () => {
    const base = weekEtag(week);
    expect(base).toMatch(/^"[\w-]{43}"$/);
    expect(weekEtag(week.map((bits) => new Uint8Array(bits)))).toBe(base);
    for (const [day, minute] of [
      [0, 0],
      [3, 719],
      [6, 1439],
    ] as const) {
      const changed = week.map((bits, index) => (index === day ? bitmapFromRanges([{ start: minute, end: minute + 1 }]) : bits));
      expect(weekEtag(changed)).not.toBe(base);
    }
  });

  it('is compared strongly: weak tags never match, lists and unquoted tags do', () => {
    const etag = weekEtag(week);
    const bare = etag.slice(1, -1);
    expect(ifMatchAccepts(etag, etag)).toBe(true);
    expect(ifMatchAccepts(bare, etag)).toBe(true);
    expect(ifMatchAccepts(`"other", ${etag}`, etag)).toBe(true);
    expect(ifMatchAccepts(`W/${etag}`, etag)).toBe(false);
    expect(ifMatchAccepts('"other"', etag)).toBe(false);
  });
});
