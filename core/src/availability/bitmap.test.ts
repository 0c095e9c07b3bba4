import { describe, expect, it } from 'vitest';
import {
  BITMAP_BYTES,
  bitmapFromRanges,
  bitmapsEqual,
  countOpenMinutes,
  emptyBitmap,
  formatMinute,
  isMinuteOpen,
  rangesFromBitmap,
  withRange,
} from './bitmap.ts';

describe('availability bitmap', () => {
  it('is 180 bytes, all closed when empty', () => {
    const bits = emptyBitmap();
    expect(bits.length).toBe(BITMAP_BYTES);
    expect(countOpenMinutes(bits)).toBe(0);
    expect(rangesFromBitmap(bits)).toEqual([]);
  });

  it.each([
    { minute: 0, byte: 0, mask: 0x80 },
    { minute: 7, byte: 0, mask: 0x01 },
    { minute: 8, byte: 1, mask: 0x80 },
    { minute: 540, byte: 67, mask: 0x08 },
    { minute: 1439, byte: 179, mask: 0x01 },
  ])('stores minute $minute in byte $byte, most significant bit first', ({ minute, byte, mask }) => {
    const bits = withRange(emptyBitmap(), { start: minute, end: minute + 1 }, true);
    expect(bits[byte]).toBe(mask);
    expect(countOpenMinutes(bits)).toBe(1);
    expect(isMinuteOpen(bits, minute)).toBe(true);
    expect(isMinuteOpen(bits, minute === 0 ? 1 : minute - 1)).toBe(false);
  });

  it('round-trips ranges, merging touching ones', () => {
    const bits = bitmapFromRanges([
      { start: 540, end: 720 },
      { start: 720, end: 780 },
      { start: 1020, end: 1260 },
      { start: 0, end: 1 },
      { start: 1439, end: 1440 },
    ]);
    expect(rangesFromBitmap(bits)).toEqual([
      { start: 0, end: 1 },
      { start: 540, end: 780 },
      { start: 1020, end: 1260 },
      { start: 1439, end: 1440 },
    ]);
    expect(countOpenMinutes(bits)).toBe(1 + 240 + 240 + 1);
  });

  it('closes a range without touching its neighbours and never mutates its input', () => {
    const open = bitmapFromRanges([{ start: 0, end: 1440 }]);
    const closed = withRange(open, { start: 603, end: 611 }, false);
    expect(countOpenMinutes(open)).toBe(1440);
    expect(rangesFromBitmap(closed)).toEqual([
      { start: 0, end: 603 },
      { start: 611, end: 1440 },
    ]);
    expect(bitmapsEqual(open, closed)).toBe(false);
    expect(bitmapsEqual(withRange(closed, { start: 603, end: 611 }, true), open)).toBe(true);
  });

  it.each([
    { start: -1, end: 10 },
    { start: 10, end: 10 },
    { start: 20, end: 10 },
    { start: 0, end: 1441 },
    { start: 1.5, end: 10 },
  ])('rejects the invalid range [$start, $end)', (range) => {
    expect(() => withRange(emptyBitmap(), range, true)).toThrow(RangeError);
  });

  it('rejects a bitmap of the wrong size', () => {
    expect(() => rangesFromBitmap(new Uint8Array(179))).toThrow(/180 bytes/);
  });

  it('formats minutes as wall-clock times', () => {
    expect([0, 545, 1439, 1440].map(formatMinute)).toEqual(['00:00', '09:05', '23:59', '24:00']);
  });
});
