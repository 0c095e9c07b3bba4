export * from './bitmap.ts';
export * from './intervals.ts';
export * from './local-time.ts';
export { openIntervalsOfDay } from './open-time.ts';
