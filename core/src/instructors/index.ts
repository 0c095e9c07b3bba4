export { findInstructors, type FindInstructorsInput } from './find-instructors.ts';
export { getInstructor } from './get-instructor.ts';
export { displayName, displayRating, type PublicInstructor, MIN_REVIEWS_FOR_RATING } from './instructor.ts';
