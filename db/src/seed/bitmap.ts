/**
 * Availability bitmaps for the seed (core has its own, tested module for the application).
 *
 * One local day = 1440 bits = 180 bytes. Byte i holds minutes 8i..8i+7, most significant bit
 * first: minute m is open iff `bits[m >> 3] & (0x80 >> (m & 7))`. Minutes are wall-clock minutes
 * of the America/New_York day.
 */
export const MINUTES_PER_DAY = 1440;
export const BITMAP_BYTES = MINUTES_PER_DAY / 8;

/** A half-open range of wall-clock minutes of one local day: [start, end). */
export type MinuteRange = readonly [start: number, end: number];

/** Encodes open minute ranges as a 180-byte bitmap. */
export function encodeDayBitmap(ranges: readonly MinuteRange[]): Buffer {
  const bits = Buffer.alloc(BITMAP_BYTES);
  for (const [start, end] of ranges) {
    if (start < 0 || end > MINUTES_PER_DAY || start > end) throw new Error(`bad minute range [${start}, ${end})`);
    for (let minute = start; minute < end; minute++) {
      bits[minute >> 3] = (bits[minute >> 3] ?? 0) | (0x80 >> (minute & 7));
    }
  }
  return bits;
}

export function isMinuteOpen(bits: Uint8Array, minute: number): boolean {
  return ((bits[minute >> 3] ?? 0) & (0x80 >> (minute & 7))) !== 0;
}

/** True when every minute of [start, end) is open. */
export function isRangeOpen(bits: Uint8Array, start: number, end: number): boolean {
  for (let minute = start; minute < end; minute++) {
    if (!isMinuteOpen(bits, minute)) return false;
  }
  return true;
}
