import { DateTime } from 'luxon';
import { consume, TIME_BOUNDARY, type WorkingText } from './working-text.ts';

export interface DateResult {
  /** First local day 'YYYY-MM-DD'. */
  date: string | null;
  /** Inclusive last day; equals `date` for a single day. */
  dateEnd: string | null;
}

const WEEKDAYS: ReadonlyArray<readonly string[]> = [
  ['monday', 'mon'],
  ['tuesday', 'tues', 'tue'],
  // Misspellings too far from "wednesday" for typo correction.
  ['wednesday', 'wensday', 'wendsday', 'wednsday', 'weds', 'wed'],
  ['thursday', 'thurs', 'thur', 'thu'],
  ['friday', 'fri'],
  ['saturday', 'sat'],
  ['sunday', 'sun'],
];

const MONTHS: ReadonlyArray<readonly string[]> = [
  ['january', 'jan'],
  ['february', 'feb'],
  ['march', 'mar'],
  ['april', 'apr'],
  ['may'],
  ['june', 'jun'],
  ['july', 'jul'],
  ['august', 'aug'],
  ['september', 'sept', 'sep'],
  ['october', 'oct'],
  ['november', 'nov'],
  ['december', 'dec'],
];

const MONTH_SOURCE = MONTHS.flat().join('|');
const WEEKDAY_SOURCE = WEEKDAYS.flat().join('|');

function weekdayNumber(word: string): number {
  const singular = word.replace(/s$/, '');
  const index = WEEKDAYS.findIndex((names) => names.includes(word) || names.includes(singular));
  return index + 1; // luxon: Monday = 1 … Sunday = 7
}

function monthNumber(word: string): number {
  return MONTHS.findIndex((names) => names.includes(word)) + 1;
}

/** The local calendar day of an instant. */
export function localToday(now: Date, timeZone: string): DateTime {
  return DateTime.fromJSDate(now, { zone: timeZone }).startOf('day');
}

function iso(day: DateTime): string {
  return day.toISODate() ?? '';
}

/** The next `weekday` on or after `today` (today counts when it is that weekday). */
function nextWeekday(today: DateTime, weekday: number): DateTime {
  return today.plus({ days: (weekday - today.weekday + 7) % 7 });
}

/**
 * "next friday" means the Friday of next week: when the plain reading ("friday" = the next
 * Friday, today included) still falls in this Monday–Sunday week, add a week.
 */
function nextWeeksWeekday(today: DateTime, weekday: number): DateTime {
  const plain = nextWeekday(today, weekday);
  return plain.weekNumber === today.weekNumber && plain.weekYear === today.weekYear ? plain.plus({ days: 7 }) : plain;
}

/** A month/day without a year is the next such day, today included. */
function upcoming(today: DateTime, month: number, day: number, year: number | null): DateTime | null {
  const make = (candidateYear: number): DateTime | null => {
    const candidate = DateTime.fromObject({ year: candidateYear, month, day }, { zone: today.zone });
    return candidate.isValid ? candidate.startOf('day') : null;
  };
  if (year !== null) return make(year < 100 ? 2000 + year : year);
  const thisYear = make(today.year);
  if (thisYear && thisYear >= today) return thisYear;
  return make(today.year + 1);
}

/** "on the 14th": this month if the 14th is still ahead (today included), otherwise the next month that has one. */
function upcomingDayOfMonth(today: DateTime, day: number): DateTime | null {
  for (let offset = 0; offset < 13; offset += 1) {
    const month = today.startOf('month').plus({ months: offset });
    const candidate = DateTime.fromObject({ year: month.year, month: month.month, day }, { zone: today.zone });
    if (candidate.isValid && candidate.startOf('day') >= today) return candidate.startOf('day');
  }
  return null;
}

/** The n-th `weekday` of a month (n = -1: the last one). */
function nthWeekday(year: number, month: number, weekday: number, n: number, zone: string): DateTime {
  if (n < 0) {
    const last = DateTime.fromObject({ year, month, day: 1 }, { zone }).endOf('month').startOf('day');
    return last.minus({ days: (last.weekday - weekday + 7) % 7 });
  }
  const first = DateTime.fromObject({ year, month, day: 1 }, { zone });
  return first.plus({ days: ((weekday - first.weekday + 7) % 7) + 7 * (n - 1) });
}

/** US holidays people book around, as the next such day (today included). */
function holiday(today: DateTime, name: string): DateTime | null {
  const fixed: Record<string, [number, number]> = {
    christmas: [12, 25],
    'christmas day': [12, 25],
    xmas: [12, 25],
    'christmas eve': [12, 24],
    'new years eve': [12, 31],
    'new years': [1, 1],
    'new years day': [1, 1],
    halloween: [10, 31],
    'valentines day': [2, 14],
    'july 4th': [7, 4],
    '4th of july': [7, 4],
    'fourth of july': [7, 4],
    'independence day': [7, 4],
  };
  const date = fixed[name];
  if (date) return upcoming(today, date[0], date[1], null);
  const floating = (year: number): DateTime | null => {
    if (name.startsWith('thanksgiving')) return nthWeekday(year, 11, 4, 4, today.zoneName ?? 'UTC');
    if (name === 'labor day') return nthWeekday(year, 9, 1, 1, today.zoneName ?? 'UTC');
    if (name === 'memorial day') return nthWeekday(year, 5, 1, -1, today.zoneName ?? 'UTC');
    return null;
  };
  const thisYear = floating(today.year);
  if (!thisYear) return null;
  return thisYear >= today ? thisYear : floating(today.year + 1);
}

/**
 * Takes the date out of the text, computed from `now` in `timeZone` (America/New_York): today,
 * tomorrow, the day after tomorrow, weekday names (the next such day; today counts), "next
 * <weekday>" (that day of next week), this/next weekend (Saturday–Sunday; from Sunday's point
 * of view "this weekend" is today only), this/next week, "in 3 days", "on the 14th", "dec 3",
 * "3 december", "12/3" (US month/day), "2026-12-03". The first date found wins.
 */
export function extractDate(work: WorkingText, now: Date, timeZone: string, impliesToday: boolean): DateResult {
  const today = localToday(now, timeZone);
  const result: DateResult = { date: null, dateEnd: null };
  const setRange = (first: DateTime | null, last: DateTime | null = first): boolean => {
    if (!first || !last) return false;
    if (result.date === null) {
      result.date = iso(first);
      result.dateEnd = iso(last);
    }
    return true;
  };
  const take = (pattern: RegExp, resolve: (match: RegExpExecArray, text: string) => boolean): void => consume(work, pattern, resolve);

  // A weekday written next to an explicit date goes with it ("sat 11/28" is no SAT).
  const weekdayLead = String.raw`(?:(?:${WEEKDAY_SOURCE}),?\s)?`;
  take(new RegExp(String.raw`\b(?:on\s|for\s)?${weekdayLead}(?<y>\d{4})-(?<m>\d{1,2})-(?<d>\d{1,2})\b`), (match) => {
    const groups = match.groups ?? {};
    return setRange(upcoming(today, Number(groups.m), Number(groups.d), Number(groups.y)));
  });
  take(
    new RegExp(
      String.raw`(?<![\w$.])(?:\b(?:on|for)\s)?${weekdayLead}(?<m>\d{1,2})\/(?<d>\d{1,2})(?:\/(?<y>\d{2}|\d{4}))?\b(?![\w/])(?!\s?(?:hours?|hrs?|off)\b)`,
    ),
    (match) => {
      const groups = match.groups ?? {};
      const month = Number(groups.m);
      if (month < 1 || month > 12) return false;
      return setRange(upcoming(today, month, Number(groups.d), groups.y ? Number(groups.y) : null));
    },
  );
  take(
    new RegExp(
      String.raw`\b(?:(?:on|for)\s)?(?:(?:${WEEKDAY_SOURCE})\s)?(?<month>${MONTH_SOURCE})\s(?<d>\d{1,2})(?:st|nd|rd|th)?\b(?:\s(?<y>\d{4})\b)?`,
    ),
    (match) => {
      const groups = match.groups ?? {};
      return setRange(upcoming(today, monthNumber(groups.month ?? ''), Number(groups.d), groups.y ? Number(groups.y) : null));
    },
  );
  take(
    new RegExp(
      String.raw`\b(?:(?:on|for)\s)?(?:the\s)?(?<d>\d{1,2})(?:st|nd|rd|th)?\s(?:of\s)?(?<month>${MONTH_SOURCE})\b(?:\s(?<y>\d{4})\b)?`,
    ),
    (match) => {
      const groups = match.groups ?? {};
      return setRange(upcoming(today, monthNumber(groups.month ?? ''), Number(groups.d), groups.y ? Number(groups.y) : null));
    },
  );
  take(
    /\b(?:(?:on|for)\s)?(?:(?:mon|tues?|wed|thu|thurs|fri|sat|sun)[a-z]*\s)?the\s(?<d>\d{1,2})(?:st|nd|rd|th)\b(?!\s(?:st|street|ave|avenue|av|grade|grader|floor|birthday|century|percentile|place))|\bon\s(?<d2>\d{1,2})(?:st|nd|rd|th)\b/,
    (match) => {
      const day = Number(match.groups?.d ?? match.groups?.d2);
      if (day < 1 || day > 31) return false;
      return setRange(upcomingDayOfMonth(today, day));
    },
  );
  take(
    /\b(?:(?:on|for|over)\s)?(?<holiday>thanksgiving(?: day)?|christmas eve|christmas(?: day)?|xmas|new years eve|new years(?: day)?|halloween|valentines day|july 4th|4th of july|fourth of july|independence day|labor day|memorial day)\b/,
    (match) => setRange(holiday(today, match.groups?.holiday ?? '')),
  );
  take(/\b(?:(?:on|for)\s)?(?:the\s)?day after (?:tomorrow|tmrw|tmr)\b/, () => setRange(today.plus({ days: 2 })));
  take(/\b(?:(?:for|by)\s)?(?:tomorrows?|tmrw|tmr|tmrow)\b/, () => setRange(today.plus({ days: 1 })));
  take(/\b(?:(?:for|by)\s)?(?:todays?|tonight)\b/, () => setRange(today));
  take(/\bin\s(?<n>\d{1,2}|a couple of|a few)\sdays?\b/, (match) => {
    const written = match.groups?.n ?? '';
    const days = /^\d+$/.test(written) ? Number(written) : written === 'a couple of' ? 2 : 3;
    return setRange(today.plus({ days }));
  });
  take(/\b(?:(?:on|for|over|during)\s)?(?:(?<which>this|next|the|this coming|coming)\s)?(?:weekends?|wknd)\b/, (match) => {
    const saturday = nextWeekday(today, 6);
    // On a Sunday, this weekend is today; the next Saturday already belongs to next weekend.
    const thisStart = today.weekday === 7 ? today : saturday;
    const thisEnd = today.weekday === 7 ? today : saturday.plus({ days: 1 });
    if (match.groups?.which === 'next') {
      const nextSaturday = today.weekday === 7 ? saturday : saturday.plus({ days: 7 });
      return setRange(nextSaturday, nextSaturday.plus({ days: 1 }));
    }
    return setRange(thisStart, thisEnd);
  });
  take(/\b(?:(?:later|sometime)\s)?(?<which>this|next)\sweek\b/, (match) => {
    const monday = today.minus({ days: today.weekday - 1 });
    if (match.groups?.which === 'next') return setRange(monday.plus({ days: 7 }), monday.plus({ days: 13 }));
    return setRange(today, monday.plus({ days: 6 }));
  });
  take(
    new RegExp(
      String.raw`\b(?:(?<lead>on|this|next|coming|this coming|every|for|until|til|till|by)\s)*(?<day>mondays?|tuesdays?|wednesdays?|wensdays?|wendsdays?|wednsdays?|thursdays?|fridays?|saturdays?|sundays?|mon|tues|tue|weds|wed|thurs|thur|thu|fri|sat|sun)\b(?<time>\s${TIME_BOUNDARY})?`,
    ),
    (match) => {
      const groups = match.groups ?? {};
      const day = groups.day ?? '';
      // "sat" alone is the SAT; it is Saturday only with "on/this/next" or a time of day after it.
      if (day === 'sat' && !groups.time && !/\b(?:on|this|next|coming|every|until|til|till|by)\s/.test(match[0])) return false;
      const weekday = weekdayNumber(day);
      if (weekday < 1) return false;
      const resolved = /\bnext\s/.test(match[0]) ? nextWeeksWeekday(today, weekday) : nextWeekday(today, weekday);
      setRange(resolved);
      return true;
    },
  );
  if (impliesToday && result.date === null) setRange(today);
  return result;
}
