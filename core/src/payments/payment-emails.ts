import type { DB } from '@instainstru/db';
import type { Transaction } from 'kysely';
import { enqueueNotification } from '../notifications/outbox.ts';
import { findUserContact, type MoneyBooking } from './booking-payments.queries.ts';

/** The student e-mails of the payment lifecycle (queued in the outbox, in the caller's transaction). */
export type PaymentEmail =
  /** The first failed authorization of an episode: fix your card. */
  | 'payment_authorization_failed'
  /** T−13h, still failing: last chance before the lesson is cancelled at T−12h. */
  | 'payment_final_warning'
  /** T−12h: cancelled without penalty because the card never authorized. */
  | 'booking_cancelled_payment_failed'
  /** A capture failed for good: the account is locked until the payment is sorted out. */
  | 'payment_capture_failed';

export async function queuePaymentEmail(
  trx: Transaction<DB>,
  template: PaymentEmail,
  booking: Pick<MoneyBooking, 'id' | 'studentId' | 'startsAt'>,
  extra: Record<string, string | number | boolean | null>,
  now: Date,
): Promise<string | null> {
  const student = await findUserContact(trx, booking.studentId);
  if (!student) return null;
  return enqueueNotification(
    trx,
    {
      channel: 'email',
      template,
      recipient: student.email,
      payload: { firstName: student.firstName, bookingId: booking.id, lessonStartsAt: booking.startsAt.toISOString(), ...extra },
    },
    now,
  );
}
