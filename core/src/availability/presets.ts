import type { TimeRange, WeeklyPattern } from './week.ts';

/** A ready-made weekly schedule an instructor can apply to a week with one click. */
export interface AvailabilityPreset {
  id: AvailabilityPresetId;
  label: string;
  description: string;
  pattern: WeeklyPattern;
}

/** The preset ids the API accepts. */
export const AVAILABILITY_PRESET_IDS = ['weekdays_9_to_5', 'evenings', 'weekends'] as const;
export type AvailabilityPresetId = (typeof AVAILABILITY_PRESET_IDS)[number];

const NINE_TO_FIVE: TimeRange[] = [{ start: '09:00', end: '17:00' }];
const EVENING: TimeRange[] = [{ start: '17:00', end: '21:00' }];

/** The presets (spec: weekdays 9–5, evenings, weekends). A preset replaces the whole week. */
export const AVAILABILITY_PRESETS: readonly AvailabilityPreset[] = [
  {
    id: 'weekdays_9_to_5',
    label: 'Weekdays 9–5',
    description: 'Monday to Friday, 9:00 am to 5:00 pm',
    pattern: { mon: NINE_TO_FIVE, tue: NINE_TO_FIVE, wed: NINE_TO_FIVE, thu: NINE_TO_FIVE, fri: NINE_TO_FIVE, sat: [], sun: [] },
  },
  {
    id: 'evenings',
    label: 'Evenings',
    description: 'Monday to Friday, 5:00 pm to 9:00 pm',
    pattern: { mon: EVENING, tue: EVENING, wed: EVENING, thu: EVENING, fri: EVENING, sat: [], sun: [] },
  },
  {
    id: 'weekends',
    label: 'Weekends',
    description: 'Saturday and Sunday, 9:00 am to 5:00 pm',
    pattern: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: NINE_TO_FIVE, sun: NINE_TO_FIVE },
  },
];

/** The preset with this id, or undefined. */
export function findPreset(id: string): AvailabilityPreset | undefined {
  return AVAILABILITY_PRESETS.find((preset) => preset.id === id);
}
