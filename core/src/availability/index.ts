export * from './bitmap.ts';
export * from './intervals.ts';
export * from './local-time.ts';
export { openIntervalsOfDay } from './open-time.ts';
export * from './week.ts';
export { getWeek, type AvailabilityWeek, type Blackout } from './get-week.ts';
export { saveWeek, type AvailabilityActor, type AvailabilityDeps, type SaveWeekInput, type WeekWriteResult } from './save-week.ts';
export { copyWeek, type CopyWeekInput } from './copy-week.ts';
export { clearWeek, type ClearWeekInput } from './clear-week.ts';
export { applyPattern, applyPreset, MAX_PATTERN_DAYS, type ApplyPatternInput, type ApplyPresetInput } from './apply-pattern.ts';
export {
  AVAILABILITY_PRESET_IDS,
  AVAILABILITY_PRESETS,
  findPreset,
  type AvailabilityPreset,
  type AvailabilityPresetId,
} from './presets.ts';
export { addBlackout, findBlackouts, removeBlackout } from './blackouts.ts';
export { AVAILABILITY_RETENTION_DAYS, pruneAvailability } from './prune-availability.ts';
