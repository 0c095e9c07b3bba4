/**
 * The browser-safe part of core: types, constants and pure functions only. The console and the
 * storefront import from here, never from the package root (which pulls in Express, pg, Kysely).
 */
export { ERROR_STATUS, type ErrorCode } from './shared/errors.ts';
export type { Page } from './shared/pagination.ts';
export type { PublicInstructor } from './instructors/instructor.ts';
export { displayName, displayRating, MIN_REVIEWS_FOR_RATING } from './instructors/instructor.ts';
