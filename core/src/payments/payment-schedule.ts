import { HOUR_MS } from '../booking/booking.ts';

/**
 * The payment lifecycle's clock rules (spec/payments.md §Authorization and capture), pure.
 * Every instant is a UTC epoch-millisecond or a Date; nothing here reads the clock.
 */

const MINUTE_MS = 60_000;

/** Authorize at T−24h. */
export const AUTHORIZE_LEAD_MS = 24 * HOUR_MS;
/** A checkout that has not authorized within this long is cancelled. */
export const CHECKOUT_AUTHORIZATION_MS = 30 * MINUTE_MS;
/** Final warning to fix the card at T−13h. */
export const FINAL_WARNING_LEAD_MS = 13 * HOUR_MS;
/** Unpaid lessons are cancelled at T−12h, without penalty. */
export const PAYMENT_CANCEL_LEAD_MS = 12 * HOUR_MS;
/** Capture at lesson end + 24h. */
export const CAPTURE_DELAY_MS = 24 * HOUR_MS;
/** An authorization must outlive the capture time by this much, or it is renewed first. */
export const AUTHORIZATION_SAFETY_MS = HOUR_MS;

/** After the first failed authorization: retries at +1h, +4h, +8h, then every 8h (offsets from that first failure). */
export const AUTHORIZATION_RETRY_OFFSETS_MS = [1 * HOUR_MS, 4 * HOUR_MS, 8 * HOUR_MS] as const;
export const AUTHORIZATION_RETRY_EVERY_MS = 8 * HOUR_MS;

/**
 * A failed capture is retried at +2h, +8h, +24h and +48h after its first failure; the attempt at
 * +48h (made by a sweep within its cadence, so between 48 and 72 hours) is the last one, after
 * which the payment goes to manual review (payments.md: "retry over 48–72h").
 */
export const CAPTURE_RETRY_OFFSETS_MS = [2 * HOUR_MS, 8 * HOUR_MS, 24 * HOUR_MS, 48 * HOUR_MS] as const;
export const CAPTURE_GIVE_UP_AFTER_MS = 48 * HOUR_MS;

/** When a booking's authorization is due: T−24h (in the past for lessons less than 24 h away). */
export function authorizeAtFor(startsAt: Date): Date {
  return new Date(startsAt.getTime() - AUTHORIZE_LEAD_MS);
}

/** When a lesson's payment is captured: end + 24h. */
export function captureDueAt(endsAt: Date): Date {
  return new Date(endsAt.getTime() + CAPTURE_DELAY_MS);
}

/**
 * The next authorization retry after a failure: the first point of the ladder (first failure
 * +1h, +4h, +8h, +16h, +24h, …) strictly after `now`. Stateless, so a sweep that runs late
 * stays on the same ladder instead of drifting.
 */
export function nextAuthorizationRetryAt(firstFailureAt: Date, now: Date): Date {
  const anchor = firstFailureAt.getTime();
  for (const offset of AUTHORIZATION_RETRY_OFFSETS_MS) {
    if (anchor + offset > now.getTime()) return new Date(anchor + offset);
  }
  const last = AUTHORIZATION_RETRY_OFFSETS_MS[AUTHORIZATION_RETRY_OFFSETS_MS.length - 1] ?? 0;
  const steps = Math.floor((now.getTime() - anchor - last) / AUTHORIZATION_RETRY_EVERY_MS) + 1;
  return new Date(anchor + last + steps * AUTHORIZATION_RETRY_EVERY_MS);
}

/** The next capture retry after a failure, or null when the last one has failed (→ manual review). */
export function nextCaptureRetryAt(firstFailureAt: Date, now: Date): Date | null {
  const anchor = firstFailureAt.getTime();
  if (now.getTime() - anchor >= CAPTURE_GIVE_UP_AFTER_MS) return null;
  for (const offset of CAPTURE_RETRY_OFFSETS_MS) {
    if (anchor + offset > now.getTime()) return new Date(anchor + offset);
  }
  return null;
}

/** What the retry sweep owes a booking whose authorization failed, at `now`. */
export type FailedAuthorizationStep = 'cancel' | 'final_warning' | 'retry' | 'wait';

export function failedAuthorizationStep(input: {
  startsAt: Date;
  now: Date;
  nextAttemptAt: Date | null;
  finalWarningSentAt: Date | null;
}): FailedAuthorizationStep {
  const untilStart = input.startsAt.getTime() - input.now.getTime();
  // Exactly T−12h cancels (the lesson is then in the 12h window where nobody can fix it in time).
  if (untilStart <= PAYMENT_CANCEL_LEAD_MS) return 'cancel';
  if (input.nextAttemptAt && input.nextAttemptAt.getTime() <= input.now.getTime()) return 'retry';
  if (untilStart <= FINAL_WARNING_LEAD_MS && !input.finalWarningSentAt) return 'final_warning';
  return 'wait';
}

/**
 * Whether an authorization is good enough to capture at `captureAt`: made, not yet lapsed, and
 * (when the provider told us when it lapses) lasting past the capture with a margin.
 */
export function authorizationCovers(input: { authorizedAt: Date | null; expiresAt: Date | null }, captureAt: Date): boolean {
  if (!input.authorizedAt) return false;
  if (!input.expiresAt) return true;
  return input.expiresAt.getTime() >= captureAt.getTime() + AUTHORIZATION_SAFETY_MS;
}
