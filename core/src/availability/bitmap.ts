/**
 * The availability bitmap of one instructor and one local day: 1440 bits, one per minute of the
 * local calendar day (America/New_York).
 *
 * Bit order — the one place it is defined: byte i holds minutes 8i … 8i+7, most significant bit
 * first. Minute m is open iff `bits[m >> 3] & (0x80 >> (m & 7))`.
 *
 * Pure functions only; browser-safe (Uint8Array, no Buffer-specific calls).
 */
export const MINUTES_PER_DAY = 1440;
export const BITMAP_BYTES = MINUTES_PER_DAY / 8;

/** A half-open range of local minutes [start, end), 0 ≤ start < end ≤ 1440. */
export interface MinuteRange {
  start: number;
  end: number;
}

export function emptyBitmap(): Uint8Array {
  return new Uint8Array(BITMAP_BYTES);
}

function assertBitmap(bits: Uint8Array): void {
  if (bits.length !== BITMAP_BYTES) throw new RangeError(`An availability bitmap has ${BITMAP_BYTES} bytes, got ${bits.length}`);
}

function assertRange(range: MinuteRange): void {
  if (
    !Number.isInteger(range.start) ||
    !Number.isInteger(range.end) ||
    range.start < 0 ||
    range.end > MINUTES_PER_DAY ||
    range.start >= range.end
  ) {
    throw new RangeError(`Invalid minute range [${range.start}, ${range.end})`);
  }
}

export function isMinuteOpen(bits: Uint8Array, minute: number): boolean {
  return ((bits[minute >> 3] ?? 0) & (0x80 >> (minute & 7))) !== 0;
}

/** A copy of `bits` with [start, end) set open (or closed). */
export function withRange(bits: Uint8Array, range: MinuteRange, open: boolean): Uint8Array {
  assertBitmap(bits);
  assertRange(range);
  const next = new Uint8Array(bits);
  for (let minute = range.start; minute < range.end; minute += 1) {
    const index = minute >> 3;
    const mask = 0x80 >> (minute & 7);
    next[index] = open ? (next[index] ?? 0) | mask : (next[index] ?? 0) & ~mask;
  }
  return next;
}

/** Builds a bitmap from open ranges (overlapping ranges are fine). */
export function bitmapFromRanges(ranges: readonly MinuteRange[]): Uint8Array {
  let bits = emptyBitmap();
  for (const range of ranges) bits = withRange(bits, range, true);
  return bits;
}

/** The open minutes as sorted, merged ranges. */
export function rangesFromBitmap(bits: Uint8Array): MinuteRange[] {
  assertBitmap(bits);
  const ranges: MinuteRange[] = [];
  let start = -1;
  for (let minute = 0; minute <= MINUTES_PER_DAY; minute += 1) {
    const open = minute < MINUTES_PER_DAY && isMinuteOpen(bits, minute);
    if (open && start < 0) start = minute;
    if (!open && start >= 0) {
      ranges.push({ start, end: minute });
      start = -1;
    }
  }
  return ranges;
}

export function countOpenMinutes(bits: Uint8Array): number {
  assertBitmap(bits);
  let count = 0;
  for (const byte of bits) {
    let value = byte;
    while (value) {
      count += value & 1;
      value >>= 1;
    }
  }
  return count;
}

export function bitmapsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return false;
  return true;
}

/** "HH:MM" for a minute of the day (1440 → "24:00"). */
export function formatMinute(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}
