/**
 * The payment provider: everything InstaInstru asks of Stripe Connect, in the platform's words.
 * Two implementations: Stripe (providers/stripe-provider.ts, the `stripe` SDK) and the offline
 * provider (providers/offline-provider.ts) that records the same operations in the database for
 * the embedded default and is labelled offline wherever payment state shows.
 *
 * Rules every implementation follows:
 * - Every call that creates or changes money takes a deterministic idempotency key (built by
 *   `idempotencyKey` in idempotency-keys.ts, e.g. `capture:{bookingId}:{attempt}`); the same key
 *   with the same parameters returns the first answer, and never moves money twice.
 * - A card decline or a failed capture is a business outcome and comes back as a result with
 *   `status: 'failed'`. Only transport problems (network, 5xx, rate limit, provider down) throw,
 *   as `PaymentProviderError` with `retryable: true`; a bad request throws with `retryable: false`.
 * - Amounts are integer cents in USD. The platform is merchant of record: charges are made on the
 *   platform account (manual capture) and instructors are paid by separate transfers.
 */
export interface PaymentProvider {
  readonly name: 'stripe' | 'offline';
  /** True for the embedded default: no real money moves. Shown in every API response and UI. */
  readonly offline: boolean;

  /** Customer for a student (created once per user; idempotent per key). */
  createCustomer(input: { userId: string; email: string; name: string }, idempotencyKey: string): Promise<{ customerId: string }>;
  /** A SetupIntent for saving a card off-session; the client confirms it with the client secret. */
  createSetupIntent(
    input: { customerId: string; userId: string },
    idempotencyKey: string,
  ): Promise<{ setupIntentId: string; clientSecret: string; status: string }>;
  /** Reads a SetupIntent (after the client confirmed it) to learn which card it saved. */
  retrieveSetupIntent(setupIntentId: string): Promise<SetupIntentState>;
  /**
   * Confirms a SetupIntent server-side with a payment method the client already has (a Stripe.js
   * `pm_…`, a Stripe test card such as `pm_card_visa`, or an offline test card such as
   * `pm_offline_visa`). The saved card may get a new id (test cards become a customer's own card).
   */
  confirmSetupIntent(input: { setupIntentId: string; paymentMethodId: string }, idempotencyKey: string): Promise<SetupIntentState>;
  /** Reads a saved card after the SetupIntent succeeded (or a webhook said so). */
  retrievePaymentMethod(paymentMethodId: string): Promise<CardDetails>;
  /** Stops a saved card from being used again. */
  detachPaymentMethod(paymentMethodId: string): Promise<void>;

  /** Manual-capture PaymentIntent confirmed off-session with the saved card. */
  authorize(input: AuthorizeInput, idempotencyKey: string): Promise<AuthorizeResult>;
  /** Captures (all or part of) an authorization. */
  capture(input: { paymentIntentId: string; amountCents: number }, idempotencyKey: string): Promise<CaptureResult>;
  /** Releases an uncaptured authorization. Cancelling an already-cancelled intent succeeds. */
  cancelAuthorization(input: { paymentIntentId: string; reason?: string }, idempotencyKey: string): Promise<{ status: 'canceled' }>;
  /** Authorizes and captures at once (tips). */
  charge(input: AuthorizeInput, idempotencyKey: string): Promise<AuthorizeResult>;
  /** Refunds part or all of a captured payment back to the card. */
  refund(
    input: {
      paymentIntentId: string;
      amountCents: number;
      reason?: 'requested_by_customer' | 'duplicate' | 'fraudulent';
      metadata?: Record<string, string>;
    },
    idempotencyKey: string,
  ): Promise<{ refundId: string; status: 'succeeded' | 'pending' | 'failed' }>;
  /** Pays an instructor's connected account from the platform balance (separate charges and transfers). */
  transfer(input: TransferInput, idempotencyKey: string): Promise<{ transferId: string }>;
  /** Takes back (part of) a transfer. Only needed when a transfer must be undone. */
  reverseTransfer(input: { transferId: string; amountCents: number }, idempotencyKey: string): Promise<{ reversalId: string }>;

  /** Connect Express account for an instructor. */
  createConnectedAccount(input: { userId: string; email: string }, idempotencyKey: string): Promise<{ accountId: string }>;
  /** A one-time onboarding link (Stripe account link; expires within minutes). */
  createOnboardingLink(input: { accountId: string; refreshUrl: string; returnUrl: string }): Promise<{ url: string; expiresAt: Date }>;
  retrieveAccount(accountId: string): Promise<ConnectedAccountState>;

  /** The provider's current view of a payment, for webhooks (re-read) and reconciliation. */
  retrievePaymentIntent(paymentIntentId: string): Promise<PaymentIntentState>;
}

export interface CardDetails {
  paymentMethodId: string;
  customerId: string | null;
  brand: string;
  last4: string;
  expMonth: number | null;
  expYear: number | null;
  fingerprint: string | null;
}

export interface SetupIntentState {
  setupIntentId: string;
  /** Stripe's SetupIntent status: requires_payment_method, requires_action, succeeded, canceled… */
  status: string;
  customerId: string | null;
  /** The saved card once the SetupIntent succeeded. */
  paymentMethodId: string | null;
  /** Decline or error code of the last attempt (card_declined, authentication_required…). */
  lastErrorCode: string | null;
}

export interface AuthorizeInput {
  amountCents: number;
  customerId: string;
  paymentMethodId: string;
  /** Shown on the statement and in the dashboard. */
  description: string;
  /** Links the PaymentIntent to our records (booking id, purpose); strings only, as Stripe wants. */
  metadata: Record<string, string>;
  /** Groups a booking's charge and its transfer in Stripe (`booking:{id}`). */
  transferGroup?: string;
}

export type AuthorizeResult =
  | {
      status: 'authorized' | 'captured';
      paymentIntentId: string;
      chargeId: string | null;
      amountCents: number;
      /** When the authorization lapses (the charge's capture_before); null once captured. */
      captureBefore: Date | null;
    }
  | {
      status: 'failed';
      paymentIntentId: string | null;
      /** Stripe decline or error code (card_declined, insufficient_funds, authentication_required…). */
      code: string;
      message: string;
      /** The customer must act (3-D Secure): off-session cannot succeed without them. */
      requiresAction: boolean;
    };

export type CaptureResult =
  | { status: 'captured'; paymentIntentId: string; chargeId: string | null; capturedCents: number }
  | {
      status: 'failed';
      paymentIntentId: string;
      code: string;
      message: string;
      /** The authorization is gone (expired/canceled). */ authorizationLost: boolean;
    };

export interface TransferInput {
  amountCents: number;
  destinationAccountId: string;
  /** `booking:{id}` for lesson payouts; ties the transfer to the charge in Stripe. */
  transferGroup?: string;
  /** Transfer from this charge's funds (source_transaction), so it never outruns the capture. */
  sourceChargeId?: string;
  description: string;
  metadata: Record<string, string>;
}

export interface ConnectedAccountState {
  accountId: string;
  payoutsEnabled: boolean;
  chargesEnabled: boolean;
  detailsSubmitted: boolean;
}

export interface PaymentIntentState {
  paymentIntentId: string;
  /** Stripe's PaymentIntent status: requires_payment_method, requires_capture, succeeded, canceled… */
  status: string;
  amountCents: number;
  amountCapturableCents: number;
  amountReceivedCents: number;
  amountRefundedCents: number;
  chargeId: string | null;
  captureBefore: Date | null;
  metadata: Record<string, string>;
  lastErrorCode: string | null;
}

/** A transport or request failure at the provider (not a decline: those are results). */
export class PaymentProviderError extends Error {
  override readonly name = 'PaymentProviderError';
  constructor(
    message: string,
    readonly options: { retryable: boolean; code?: string; statusCode?: number; requestId?: string },
  ) {
    super(message);
  }
  get retryable(): boolean {
    return this.options.retryable;
  }
}
