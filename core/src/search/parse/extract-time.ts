import type { TimeWindow } from '../parsed-query.ts';
import { consume, TIME_BOUNDARY, type WorkingText } from './working-text.ts';

export interface TimeResult {
  timeWindow: TimeWindow | null;
  /** "tonight", "this morning": the window is today's. */
  impliesToday: boolean;
}

const HOUR = 60;
/** Spec §1 windows, minutes after local midnight. */
export const MORNING: TimeWindow = { startMinute: 6 * HOUR, endMinute: 12 * HOUR };
export const AFTERNOON: TimeWindow = { startMinute: 12 * HOUR, endMinute: 17 * HOUR };
export const EVENING: TimeWindow = { startMinute: 17 * HOUR, endMinute: 21 * HOUR };
/**
 * "after 5pm" runs to the end of the evening window (21:00); from 20:00 on, to midnight.
 * "before 10am" starts with the teaching day at 06:00 (or midnight for "before 6am").
 */
export const AFTER_DEFAULT_END = 21 * HOUR;
export const BEFORE_DEFAULT_START = 6 * HOUR;

type Meridiem = 'am' | 'pm';

interface Period {
  window: TimeWindow;
  /** Which half of the day a bare hour means next to this period ("morning at 7" is 7am). */
  meridiem: Meridiem;
}

const PERIODS: Record<string, Period> = {
  'early morning': { window: { startMinute: 6 * HOUR, endMinute: 9 * HOUR }, meridiem: 'am' },
  'late morning': { window: { startMinute: 9 * HOUR, endMinute: 12 * HOUR }, meridiem: 'am' },
  morning: { window: MORNING, meridiem: 'am' },
  'early afternoon': { window: { startMinute: 12 * HOUR, endMinute: 14 * HOUR }, meridiem: 'pm' },
  'late afternoon': { window: { startMinute: 15 * HOUR, endMinute: 17 * HOUR }, meridiem: 'pm' },
  afternoon: { window: AFTERNOON, meridiem: 'pm' },
  'early evening': { window: { startMinute: 17 * HOUR, endMinute: 19 * HOUR }, meridiem: 'pm' },
  'late evening': { window: { startMinute: 19 * HOUR, endMinute: 21 * HOUR }, meridiem: 'pm' },
  evening: { window: EVENING, meridiem: 'pm' },
  night: { window: EVENING, meridiem: 'pm' },
  weeknight: { window: EVENING, meridiem: 'pm' },
  'after work': { window: EVENING, meridiem: 'pm' },
  // School lets out around 3pm; after-school lessons run until dinner.
  'after school': { window: { startMinute: 15 * HOUR, endMinute: 18 * HOUR }, meridiem: 'pm' },
  lunchtime: { window: { startMinute: 12 * HOUR, endMinute: 13 * HOUR }, meridiem: 'pm' },
};

const PERIOD_PATTERN =
  /\b(?:(?:in|during|on|for|at)\s)?(?:the\s)?(?<this>this\s|tonights?\b|tonite\b)?(?<name>(?:(?:early|late)\s)?(?:mornings?|afternoons?|evenings?)|nights?|weeknights?|after work|after school|lunch\s?time|lunch break)?\b/;

function periodKey(name: string): string {
  const singular = name.replace(/s$/, '').replace(/^lunch\s?time$|^lunch break$/, 'lunchtime');
  return singular;
}

function clockSource(suffix: string): string {
  return String.raw`(?:(?<h${suffix}>\d{1,2})(?::(?<m${suffix}>[0-5]\d))?\s?(?<ap${suffix}>am|pm)?(?:\s?oclock)?|(?<named${suffix}>noon|midday|midnight))`;
}

// Between a keyword and a clock: a space, or nothing before a digit ("at6pm"); never "afternoon".
const GAP = String.raw`(?:\s|(?=\d))`;

// A number that is something else: "at 5 years old", "after 3 lessons", "before 6th grade".
const NOT_A_CLOCK_NEXT = String.raw`(?!\s?(?:years?|yrs?|yo|olds?|days?|weeks?|months?|mins?|minutes?|hours?|hrs?|kids|students|people|dollars?|bucks|lessons?|sessions?|classes|times)\b)(?![\d$/.:])`;

interface ClockParts {
  hour: string | undefined;
  minute: string | undefined;
  meridiem: string | undefined;
  named: string | undefined;
}

function clockParts(groups: Record<string, string | undefined>, suffix: string): ClockParts {
  return { hour: groups[`h${suffix}`], minute: groups[`m${suffix}`], meridiem: groups[`ap${suffix}`], named: groups[`named${suffix}`] };
}

/**
 * Minute of the day for a clock reading, or null when it is no time. Without am/pm, `fallback`
 * decides (a period word such as "morning", or the other end of a range); with neither, 1–7
 * means afternoon/evening and 8–11 morning, the hours people book lessons at.
 */
function toMinute(parts: ClockParts, fallback: Meridiem | null): number | null {
  if (parts.named) return parts.named === 'midnight' ? 0 : 12 * HOUR;
  if (parts.hour === undefined) return null;
  const hour = Number(parts.hour);
  const minute = parts.minute ? Number(parts.minute) : 0;
  if (parts.meridiem) {
    if (hour < 1 || hour > 12) return null;
    const base = hour % 12;
    return (parts.meridiem === 'pm' ? base + 12 : base) * HOUR + minute;
  }
  if (hour > 23) return null;
  if (hour >= 13 || hour === 0) return hour * HOUR + minute;
  const meridiem: Meridiem = fallback ?? (hour === 12 || hour <= 7 ? 'pm' : 'am');
  const base = hour % 12;
  return (meridiem === 'pm' ? base + 12 : base) * HOUR + minute;
}

function hasMarker(parts: ClockParts): boolean {
  return Boolean(parts.meridiem || parts.named || parts.minute);
}

function window(startMinute: number, endMinute: number): TimeWindow | null {
  const start = Math.max(0, startMinute);
  const end = Math.min(24 * HOUR, endMinute);
  return end > start ? { startMinute: start, endMinute: end } : null;
}

/**
 * Takes the time of day out of the text. Clock phrases: "at 6pm" (a one-hour window),
 * "around 3pm" (±1 h), "after 5pm" (until 21:00), "before noon" (from 06:00), "between 3 and
 * 5pm", a bare "6pm". Period words: morning 06–12, afternoon 12–17, evening/tonight/night
 * 17–21 ("tonight" and "this morning" also mean today). A clock phrase is more precise and wins
 * over a period; the period still tells whether a bare "at 7" is am or pm.
 */
export function extractTimeOfDay(work: WorkingText): TimeResult {
  const result: TimeResult = { timeWindow: null, impliesToday: false };
  let period: Period | null = null;

  // Periods first (their words are removed later), so clocks can borrow am/pm from them.
  const periodScan = new RegExp(PERIOD_PATTERN.source, 'g');
  for (let match = periodScan.exec(work.text); match !== null; match = periodScan.exec(work.text)) {
    if (match[0].length === 0) {
      periodScan.lastIndex += 1;
      continue;
    }
    const name = match.groups?.name;
    const thisWord = match.groups?.this?.trim();
    if (thisWord?.startsWith('toni')) {
      period ??= PERIODS.evening ?? null;
      result.impliesToday = true;
    } else if (name) {
      period ??= PERIODS[periodKey(name)] ?? null;
      if (thisWord === 'this') result.impliesToday = true;
    }
  }

  const setWindow = (candidate: TimeWindow | null): boolean => {
    if (!candidate) return false;
    result.timeWindow ??= candidate;
    return true;
  };
  const fallback = period?.meridiem ?? null;

  // "between 3 and 5pm", "from 4 to 6", "3-5pm", "10am-noon"
  consume(
    work,
    new RegExp(
      String.raw`\b(?:(?<lead>between|from)${GAP})?${clockSource('1')}\s?(?:-|to|and|until|till|til)\s?${clockSource('2')}\b${NOT_A_CLOCK_NEXT}`,
    ),
    (match) => {
      const groups = match.groups ?? {};
      const start = clockParts(groups, '1');
      const end = clockParts(groups, '2');
      if (!groups.lead && !hasMarker(start) && !hasMarker(end)) return false;
      const endMinute = toMinute(end, fallback);
      if (endMinute === null) return false;
      const endMeridiem: Meridiem | null = end.meridiem === 'am' || end.meridiem === 'pm' ? end.meridiem : null;
      let startMinute = toMinute(start, endMeridiem ?? fallback);
      // "11-1pm": the start keeps the end's "pm" only when that still comes before the end.
      if (startMinute !== null && startMinute >= endMinute && !start.meridiem) startMinute = toMinute(start, 'am');
      if (startMinute === null) return false;
      return setWindow(window(startMinute, endMinute));
    },
    TIME_BOUNDARY,
  );

  // "around 3pm", "about 4", "3ish" → ±1 hour
  consume(
    work,
    new RegExp(
      String.raw`(?:\b(?:around|about|approximately|approx|roughly)${GAP}|~\s?)${clockSource('')}\b${NOT_A_CLOCK_NEXT}|\b(?<hi>\d{1,2})\s?(?<api>am|pm)?\s?ish\b`,
    ),
    (match) => {
      const groups = match.groups ?? {};
      const parts = groups.hi ? { hour: groups.hi, minute: undefined, meridiem: groups.api, named: undefined } : clockParts(groups, '');
      const minute = toMinute(parts, fallback);
      if (minute === null) return false;
      return setWindow(window(minute - HOUR, minute + HOUR));
    },
    TIME_BOUNDARY,
  );

  // "after 5pm", "from 6 on", "6pm or later"
  consume(
    work,
    new RegExp(
      String.raw`\b(?:after|past|later than|no earlier than|starting at|starting from|starting|from|anytime after|any time after)${GAP}${clockSource('')}(?:\s?(?:on|onwards?))?\b${NOT_A_CLOCK_NEXT}|\b${clockSource('x')}\s?(?:or later|onwards?|and later)\b`,
    ),
    (match) => {
      const groups = match.groups ?? {};
      const parts = groups.hx !== undefined || groups.namedx !== undefined ? clockParts(groups, 'x') : clockParts(groups, '');
      const start = toMinute(parts, fallback);
      if (start === null) return false;
      return setWindow(window(start, start >= 20 * HOUR ? 24 * HOUR : Math.max(AFTER_DEFAULT_END, start + HOUR)));
    },
    TIME_BOUNDARY,
  );

  // "before noon", "by 10am", "no later than 4"
  consume(
    work,
    new RegExp(String.raw`\b(?:before|by|no later than|earlier than|until|till|til)${GAP}${clockSource('')}\b${NOT_A_CLOCK_NEXT}`),
    (match) => {
      const end = toMinute(clockParts(match.groups ?? {}, ''), fallback);
      if (end === null) return false;
      return setWindow(window(end > BEFORE_DEFAULT_START ? BEFORE_DEFAULT_START : 0, end));
    },
    TIME_BOUNDARY,
  );

  // "at 6pm", "at 6", "@ 4:30" → a one-hour window
  consume(
    work,
    new RegExp(String.raw`\bat${GAP}${clockSource('')}\b${NOT_A_CLOCK_NEXT}`),
    (match) => {
      const minute = toMinute(clockParts(match.groups ?? {}, ''), fallback);
      if (minute === null) return false;
      return setWindow(window(minute, minute + HOUR));
    },
    TIME_BOUNDARY,
  );

  // A bare "6pm", "4:30pm" or "noon": one hour.
  consume(
    work,
    new RegExp(String.raw`\b(?:(?<h>\d{1,2})(?::(?<m>[0-5]\d))?\s?(?<ap>am|pm)|(?<named>noon|midday))\b`),
    (match) => {
      const minute = toMinute(clockParts(match.groups ?? {}, ''), fallback);
      if (minute === null) return false;
      return setWindow(window(minute, minute + HOUR));
    },
    TIME_BOUNDARY,
  );

  consume(
    work,
    PERIOD_PATTERN,
    (match) => {
      if (!match.groups?.name && !match.groups?.this?.trim().startsWith('toni')) return false;
      return true;
    },
    TIME_BOUNDARY,
  );
  if (!result.timeWindow && period) result.timeWindow = { ...period.window };
  return result;
}
