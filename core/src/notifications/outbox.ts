import { type DB, newId } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';

export type NotificationChannel = 'email' | 'sms' | 'push';

export interface NewNotification {
  channel: NotificationChannel;
  /** Names the message template, e.g. `password_reset`. */
  template: string;
  /** E-mail address, phone number or push subscription id. */
  recipient: string;
  /** Template variables. May hold a single-use link until delivery: the outbox is restricted data. */
  payload: Record<string, string | number | boolean | null>;
}

/**
 * Queues a notification in the outbox, in the caller's transaction, so it is sent if and only if
 * the change that caused it commits. Delivery (Resend / Twilio / Web Push) reads pending rows.
 */
export async function enqueueNotification(db: Kysely<DB> | Transaction<DB>, notification: NewNotification, now: Date): Promise<string> {
  const id = newId(now.getTime());
  await db
    .insertInto('outbox')
    .values({
      id,
      channel: notification.channel,
      template: notification.template,
      recipient: notification.recipient,
      payload: JSON.stringify(notification.payload),
      createdAt: now,
    })
    .execute();
  return id;
}
