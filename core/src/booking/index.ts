export * from './booking.ts';
export * from './booking-rules.ts';
export { type BookingDeps, type BookingCaller } from './booking-deps.ts';
export { createBooking, type NewBooking, type LessonAddress, FOUNDING_FEE_BPS } from './create-booking.ts';
export { getBooking } from './get-booking.ts';
export { findBookings, type BookingListQuery } from './find-bookings.ts';
export { cancelBooking, getCancellationQuote } from './cancel-booking.ts';
export {
  cancellationQuote,
  type CancellationQuote,
  type CancellationSnapshot,
  type CancellationActor,
  type CancellationOutcome,
} from './cancellation-quote.ts';
export { rescheduleBooking } from './reschedule-booking.ts';
export { completeBooking } from './complete-booking.ts';
export { reportNoShow } from './report-no-show.ts';
export { addInstructorNote } from './add-instructor-note.ts';
export { releaseExpiredHolds, findHoldState } from './release-expired-holds.ts';
