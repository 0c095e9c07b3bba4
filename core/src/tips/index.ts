/** Reviews with tips (payments.md §Tips): the review, and the tip's charge and transfer job. */
export { createReview, REVIEW_RULES, type NewReview } from './create-review.ts';
export { getReviewOfBooking, type LessonReview, type TipStatus } from './get-review.ts';
export { processTipPayment } from './process-tip-payment.ts';
