/**
 * A five-field cron evaluator (minute hour day-of-month month day-of-week), in UTC.
 *
 * Supported per field: `*`, numbers, lists `a,b`, ranges `a-b`, steps `*\/n` and `a-b/n`.
 * Day-of-week is 0–6 with 7 also meaning Sunday. As in Vixie cron, when both day fields are
 * restricted a day matches if either does. Names (`MON`, `JAN`) and `@hourly` shortcuts are not
 * supported: the schedules are declared in code and this is all they need.
 */
export interface CronExpression {
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  readonly anyDayOfMonth: boolean;
  readonly anyDayOfWeek: boolean;
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

const MINUTE_MS = 60_000;
// Far enough for any valid expression (Feb 29 recurs within 8 years); impossible ones such as
// "0 0 31 2 *" stop here instead of looping forever.
const SEARCH_LIMIT_MS = 9 * 366 * 24 * 3_600_000;

/** Parses an expression; throws an Error naming the bad field. */
export function parseCron(source: string): CronExpression {
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`Cron "${source}" must have 5 fields (minute hour day month weekday)`);
  const sets = parts.map((part, index) => parseField(part, FIELDS[index]!, source));
  const daysOfWeek = new Set([...sets[4]!].map((day) => (day === 7 ? 0 : day)));
  return {
    source,
    minutes: sets[0]!,
    hours: sets[1]!,
    daysOfMonth: sets[2]!,
    months: sets[3]!,
    daysOfWeek,
    anyDayOfMonth: parts[2] === '*',
    anyDayOfWeek: parts[4] === '*',
  };
}

function parseField(part: string, field: (typeof FIELDS)[number], source: string): Set<number> {
  const values = new Set<number>();
  const fail = (): never => {
    throw new Error(`Cron "${source}": invalid ${field.name} "${part}" (allowed ${field.min}-${field.max})`);
  };
  for (const item of part.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!match) fail();
    const [, range, from, to, stepText] = match!;
    const step = stepText === undefined ? 1 : Number(stepText);
    let low: number = field.min;
    let high: number = field.max;
    if (range !== '*') {
      low = Number(from);
      high = to === undefined ? (stepText === undefined ? low : field.max) : Number(to);
    }
    if (step < 1 || low < field.min || high > field.max || low > high) fail();
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return values;
}

function dayMatches(cron: CronExpression, at: Date): boolean {
  const byMonthDay = cron.daysOfMonth.has(at.getUTCDate());
  const byWeekDay = cron.daysOfWeek.has(at.getUTCDay());
  if (cron.anyDayOfMonth && cron.anyDayOfWeek) return true;
  if (cron.anyDayOfMonth) return byWeekDay;
  if (cron.anyDayOfWeek) return byMonthDay;
  return byMonthDay || byWeekDay;
}

/** True when `at` (to the minute) is a slot of the expression. */
export function matchesCron(cron: CronExpression, at: Date): boolean {
  return (
    cron.months.has(at.getUTCMonth() + 1) &&
    dayMatches(cron, at) &&
    cron.hours.has(at.getUTCHours()) &&
    cron.minutes.has(at.getUTCMinutes())
  );
}

/** The first slot strictly after `after`. */
export function nextCronSlot(cron: CronExpression, after: Date): Date {
  const start = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const at = new Date(start);
  while (at.getTime() - start <= SEARCH_LIMIT_MS) {
    if (!cron.months.has(at.getUTCMonth() + 1)) {
      at.setUTCMonth(at.getUTCMonth() + 1, 1);
      at.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(cron, at)) {
      at.setUTCDate(at.getUTCDate() + 1);
      at.setUTCHours(0, 0, 0, 0);
    } else if (!cron.hours.has(at.getUTCHours())) {
      at.setUTCHours(at.getUTCHours() + 1, 0, 0, 0);
    } else if (!cron.minutes.has(at.getUTCMinutes())) {
      at.setUTCMinutes(at.getUTCMinutes() + 1, 0, 0);
    } else {
      return at;
    }
  }
  throw new Error(`Cron "${cron.source}" has no slot in the next 9 years`);
}

/** The latest slot at or before `atOrBefore`; undefined when there is none within 9 years. */
export function latestCronSlot(cron: CronExpression, atOrBefore: Date): Date | undefined {
  const start = Math.floor(atOrBefore.getTime() / MINUTE_MS) * MINUTE_MS;
  const at = new Date(start);
  while (start - at.getTime() <= SEARCH_LIMIT_MS) {
    if (!cron.months.has(at.getUTCMonth() + 1)) {
      // last minute of the previous month
      at.setUTCDate(1);
      at.setUTCHours(0, -1, 0, 0);
    } else if (!dayMatches(cron, at)) {
      at.setUTCHours(0, -1, 0, 0);
    } else if (!cron.hours.has(at.getUTCHours())) {
      at.setUTCMinutes(-1, 0, 0);
    } else if (!cron.minutes.has(at.getUTCMinutes())) {
      at.setUTCMinutes(at.getUTCMinutes() - 1, 0, 0);
    } else {
      return at;
    }
  }
  return undefined;
}

/** How many slots lie strictly between `after` and `before`, counting at most `cap`. */
export function countCronSlotsBetween(cron: CronExpression, after: Date, before: Date, cap = 10_000): number {
  let count = 0;
  let cursor = after;
  while (count < cap) {
    const next = nextCronSlot(cron, cursor);
    if (next.getTime() >= before.getTime()) break;
    count += 1;
    cursor = next;
  }
  return count;
}
