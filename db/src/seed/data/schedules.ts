import type { MinuteRange } from '../bitmap.ts';

/** Open hours per ISO weekday (1 = Monday … 7 = Sunday), as wall-clock minute ranges. */
export type WeeklyHours = Readonly<Record<1 | 2 | 3 | 4 | 5 | 6 | 7, readonly MinuteRange[]>>;

const at = (hour: number, minute = 0) => hour * 60 + minute;
const NONE: readonly MinuteRange[] = [];

/**
 * Typical weekly patterns of private instructors (the presets of the availability editor plus a
 * few common mixes). Each instructor gets one, shifted and trimmed a little (build-availability.ts).
 * None open between 00:00 and 07:00, so daylight-saving days need no special care here.
 */
export const WEEKLY_PATTERNS: readonly { name: string; weight: number; hours: WeeklyHours }[] = [
  {
    name: 'weekday evenings',
    weight: 5,
    hours: {
      1: [[at(17), at(21)]],
      2: [[at(17), at(21)]],
      3: [[at(17), at(21)]],
      4: [[at(17), at(21)]],
      5: [[at(17), at(20)]],
      6: NONE,
      7: NONE,
    },
  },
  {
    name: 'weekends',
    weight: 3,
    hours: { 1: NONE, 2: NONE, 3: NONE, 4: NONE, 5: NONE, 6: [[at(9), at(17)]], 7: [[at(10), at(16)]] },
  },
  {
    name: 'weekdays 9-5',
    weight: 4,
    hours: {
      1: [[at(9), at(17)]],
      2: [[at(9), at(17)]],
      3: [[at(9), at(17)]],
      4: [[at(9), at(17)]],
      5: [[at(9), at(17)]],
      6: NONE,
      7: NONE,
    },
  },
  {
    name: 'after school',
    weight: 5,
    hours: {
      1: [[at(15), at(19)]],
      2: [[at(15), at(19)]],
      3: [[at(15), at(19)]],
      4: [[at(15), at(19)]],
      5: [[at(15), at(18)]],
      6: [[at(10), at(14)]],
      7: NONE,
    },
  },
  {
    name: 'evenings and weekends',
    weight: 6,
    hours: {
      1: [[at(18), at(21)]],
      2: [[at(18), at(21)]],
      3: NONE,
      4: [[at(18), at(21)]],
      5: NONE,
      6: [[at(10), at(17)]],
      7: [[at(11), at(16)]],
    },
  },
  {
    name: 'mornings',
    weight: 2,
    hours: {
      1: [[at(7), at(12)]],
      2: [[at(7), at(12)]],
      3: [[at(7), at(12)]],
      4: [[at(7), at(12)]],
      5: [[at(7), at(12)]],
      6: [[at(8), at(12)]],
      7: NONE,
    },
  },
  {
    name: 'full time with lunch',
    weight: 3,
    hours: {
      1: [
        [at(10), at(13)],
        [at(14), at(19)],
      ],
      2: [
        [at(10), at(13)],
        [at(14), at(19)],
      ],
      3: [
        [at(10), at(13)],
        [at(14), at(19)],
      ],
      4: [
        [at(10), at(13)],
        [at(14), at(19)],
      ],
      5: [
        [at(10), at(13)],
        [at(14), at(17)],
      ],
      6: [[at(10), at(15)]],
      7: NONE,
    },
  },
  {
    name: 'split shifts',
    weight: 2,
    hours: {
      1: [
        [at(8), at(10)],
        [at(18), at(21)],
      ],
      2: NONE,
      3: [
        [at(8), at(10)],
        [at(18), at(21)],
      ],
      4: NONE,
      5: [
        [at(8), at(10)],
        [at(17), at(20)],
      ],
      6: [[at(9), at(13)]],
      7: [[at(9), at(13)]],
    },
  },
];

export const BLACKOUT_REASONS: readonly string[] = [
  'Out of town',
  'Recital day',
  'Family event',
  'Conference',
  'Holiday',
  'Performing that evening',
  'Medical appointment',
];
