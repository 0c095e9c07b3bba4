export * from './tiers.ts';
export { cardAmountCents, lessonAmounts, type LessonAmounts, roundCents, STUDENT_FEE_BPS } from './fees.ts';
export {
  decideTier,
  evaluateAllInstructorTiers,
  evaluateInstructorTier,
  instructorFeeBpsFor,
  type InstructorTier,
  type TierEvaluationSummary,
  type TierTrigger,
} from './instructor-fee.ts';
export {
  countFoundingInstructors,
  FOUNDING_CAP,
  type FoundingGrant,
  type FoundingSummary,
  getFoundingSummary,
  grantFounding,
  grantFoundingStatus,
} from './founding.ts';
export { findTierState } from './pricing.queries.ts';
