/** Half-open UTC intervals [startMs, endMs) and the set operations the booking rules need. */
export interface Interval {
  startMs: number;
  endMs: number;
}

/** Sorts and merges touching or overlapping intervals. */
export function normalize(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter((interval) => interval.endMs > interval.startMs).sort((a, b) => a.startMs - b.startMs);
  const merged: Interval[] = [];
  for (const interval of sorted) {
    const last = merged[merged.length - 1];
    if (last && interval.startMs <= last.endMs) last.endMs = Math.max(last.endMs, interval.endMs);
    else merged.push({ ...interval });
  }
  return merged;
}

/** `base` minus every interval of `cut` (both normalized first). */
export function subtract(base: readonly Interval[], cut: readonly Interval[]): Interval[] {
  const cuts = normalize(cut);
  const result: Interval[] = [];
  for (const interval of normalize(base)) {
    let start = interval.startMs;
    for (const piece of cuts) {
      if (piece.endMs <= start || piece.startMs >= interval.endMs) continue;
      if (piece.startMs > start) result.push({ startMs: start, endMs: piece.startMs });
      start = Math.max(start, piece.endMs);
      if (start >= interval.endMs) break;
    }
    if (start < interval.endMs) result.push({ startMs: start, endMs: interval.endMs });
  }
  return result;
}

/** True when [startMs, endMs) lies entirely inside one interval of a normalized list. */
export function covers(normalized: readonly Interval[], startMs: number, endMs: number): boolean {
  return normalized.some((interval) => interval.startMs <= startMs && endMs <= interval.endMs);
}
