import Stripe from 'stripe';
import {
  type AuthorizeInput,
  type AuthorizeResult,
  type CaptureResult,
  type CardDetails,
  type PaymentIntentState,
  type PaymentProvider,
  PaymentProviderError,
  type SetupIntentState,
} from '../provider.ts';

export interface StripeProviderOptions {
  /** sk_… or rk_… (never logged). */
  secretKey: string;
  /** Another API endpoint (a local fake in tests): sets host, port and protocol at once. */
  apiBaseUrl?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  protocol?: 'http' | 'https' | undefined;
  /** Per-request timeout; a timed-out call throws a retryable PaymentProviderError. */
  timeoutMs?: number | undefined;
  /** The SDK's own retries (network errors, 409, 5xx), each with the same idempotency key. */
  maxNetworkRetries?: number | undefined;
}

const CANCELLATION_REASONS = new Set(['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned']);

function toDate(seconds: number | null | undefined): Date | null {
  return typeof seconds === 'number' ? new Date(seconds * 1000) : null;
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}

/** What a Stripe error body says about the PaymentIntent/SetupIntent involved (Stripe includes it). */
function rawOf(error: Stripe.errors.StripeError): Record<string, any> {
  return (error.raw ?? {}) as Record<string, any>;
}

/**
 * Turns an SDK error that is not a business outcome into a PaymentProviderError: connection
 * problems, timeouts, 409 (a concurrent request with the key), 429 and 5xx are retryable;
 * invalid requests, idempotency misuse and bad credentials are not.
 */
function providerError(error: unknown): PaymentProviderError {
  if (!(error instanceof Stripe.errors.StripeError)) {
    return new PaymentProviderError(`Stripe call failed: ${(error as Error)?.message ?? String(error)}`, {
      retryable: true,
      code: 'unknown',
    });
  }
  const statusCode = error.statusCode;
  const requestId = error.requestId;
  const base = { ...(statusCode === undefined ? {} : { statusCode }), ...(requestId === undefined ? {} : { requestId }) };
  if (error instanceof Stripe.errors.StripeConnectionError) {
    return new PaymentProviderError(`Stripe did not answer: ${error.message}`, { retryable: true, code: 'connection_error', ...base });
  }
  if (error instanceof Stripe.errors.StripeRateLimitError) {
    return new PaymentProviderError('Stripe rate limit reached', { retryable: true, code: 'rate_limit', ...base });
  }
  if (error instanceof Stripe.errors.StripeIdempotencyError) {
    return new PaymentProviderError(error.message, { retryable: false, code: 'idempotency_error', ...base });
  }
  if (statusCode === 409 || (statusCode !== undefined && statusCode >= 500) || error instanceof Stripe.errors.StripeAPIError) {
    return new PaymentProviderError(`Stripe failed: ${error.message}`, { retryable: true, code: error.code ?? 'api_error', ...base });
  }
  return new PaymentProviderError(error.message, { retryable: false, code: error.code ?? error.type, ...base });
}

/** Card declines (402) and payment-method problems become results; everything else throws. */
function isPaymentMethodProblem(error: unknown): boolean {
  if (!(error instanceof Stripe.errors.StripeInvalidRequestError)) return false;
  return (
    error.param === 'payment_method' ||
    error.code === 'payment_method_unexpected_state' ||
    error.code === 'payment_intent_incompatible_payment_method'
  );
}

function cardDetailsOf(method: Stripe.PaymentMethod): CardDetails {
  return {
    paymentMethodId: method.id,
    customerId: idOf(method.customer as string | { id: string } | null),
    brand: method.card?.brand ?? method.type,
    last4: method.card?.last4 ?? '0000',
    expMonth: method.card?.exp_month ?? null,
    expYear: method.card?.exp_year ?? null,
    fingerprint: method.card?.fingerprint ?? null,
  };
}

function setupStateOf(intent: Stripe.SetupIntent): SetupIntentState {
  return {
    setupIntentId: intent.id,
    status: intent.status,
    customerId: idOf(intent.customer as string | { id: string } | null),
    paymentMethodId: idOf(intent.payment_method as string | { id: string } | null),
    lastErrorCode: intent.last_setup_error?.decline_code || intent.last_setup_error?.code || null,
  };
}

function intentStateOf(intent: Stripe.PaymentIntent): PaymentIntentState {
  const charge = intent.latest_charge && typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
  // Stripe counts the released remainder of a partial capture as "refunded" on the charge.
  const released = charge && charge.captured ? charge.amount - charge.amount_captured : 0;
  return {
    paymentIntentId: intent.id,
    status: intent.status,
    amountCents: intent.amount,
    amountCapturableCents: intent.amount_capturable,
    amountReceivedCents: intent.amount_received,
    amountRefundedCents: charge ? Math.max(0, charge.amount_refunded - released) : 0,
    chargeId: idOf(intent.latest_charge as string | { id: string } | null),
    captureBefore: intent.status === 'requires_capture' ? toDate(charge?.payment_method_details?.card?.capture_before) : null,
    metadata: { ...(intent.metadata ?? {}) },
    lastErrorCode: intent.last_payment_error?.decline_code || intent.last_payment_error?.code || null,
  };
}

/**
 * The payment provider on Stripe Connect via the `stripe` SDK. The platform is merchant of
 * record: manual-capture PaymentIntents confirmed off-session with the saved card, captured
 * later, and instructors paid by separate transfers (source_transaction = the lesson's charge).
 * Every mutating call carries the caller's idempotency key, which the SDK also reuses on its own
 * retries, so a call is executed at most once per key. Declines come back as results; transport
 * failures throw retryable PaymentProviderErrors.
 */
export function createStripePaymentProvider(options: StripeProviderOptions): PaymentProvider {
  const endpoint = options.apiBaseUrl ? new URL(options.apiBaseUrl) : undefined;
  const protocol = options.protocol ?? (endpoint ? (endpoint.protocol.replace(':', '') as 'http' | 'https') : undefined);
  const host = options.host ?? endpoint?.hostname;
  const port = options.port ?? (endpoint?.port ? Number(endpoint.port) : undefined);
  const stripe = new Stripe(options.secretKey, {
    ...(host ? { host } : {}),
    ...(port ? { port } : {}),
    ...(protocol ? { protocol } : {}),
    timeout: options.timeoutMs ?? 20_000,
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    telemetry: false,
    appInfo: { name: 'InstaInstru' },
  });

  async function call<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw providerError(error);
    }
  }

  async function createIntent(input: AuthorizeInput, key: string, captureMethod: 'manual' | 'automatic'): Promise<AuthorizeResult> {
    let intent: Stripe.PaymentIntent;
    try {
      intent = await stripe.paymentIntents.create(
        {
          amount: input.amountCents,
          currency: 'usd',
          customer: input.customerId,
          payment_method: input.paymentMethodId,
          allowed_payment_method_types: ['card'],
          capture_method: captureMethod,
          confirm: true,
          off_session: true,
          description: input.description,
          metadata: input.metadata,
          ...(input.transferGroup ? { transfer_group: input.transferGroup } : {}),
          expand: ['latest_charge'],
        },
        { idempotencyKey: key },
      );
    } catch (error) {
      if (error instanceof Stripe.errors.StripeCardError) {
        const code = error.decline_code || error.code || 'card_declined';
        return {
          status: 'failed',
          paymentIntentId: idOf(rawOf(error).payment_intent as { id: string } | undefined),
          code,
          message: error.message,
          requiresAction: error.code === 'authentication_required',
        };
      }
      if (isPaymentMethodProblem(error)) {
        return {
          status: 'failed',
          paymentIntentId: null,
          code: 'payment_method_unavailable',
          message: (error as Error).message,
          requiresAction: false,
        };
      }
      throw providerError(error);
    }
    const state = intentStateOf(intent);
    if (intent.status === 'requires_capture' || intent.status === 'succeeded') {
      return {
        status: intent.status === 'succeeded' ? 'captured' : 'authorized',
        paymentIntentId: intent.id,
        chargeId: state.chargeId,
        amountCents: intent.amount,
        captureBefore: state.captureBefore,
      };
    }
    const requiresAction = intent.status === 'requires_action';
    return {
      status: 'failed',
      paymentIntentId: intent.id,
      code: state.lastErrorCode ?? (requiresAction ? 'authentication_required' : intent.status),
      message: intent.last_payment_error?.message ?? `The payment is ${intent.status}.`,
      requiresAction,
    };
  }

  return {
    name: 'stripe',
    offline: false,

    async createCustomer(input, key) {
      const customer = await call(() =>
        stripe.customers.create({ email: input.email, name: input.name, metadata: { userId: input.userId } }, { idempotencyKey: key }),
      );
      return { customerId: customer.id };
    },

    async createSetupIntent(input, key) {
      const intent = await call(() =>
        stripe.setupIntents.create(
          { customer: input.customerId, usage: 'off_session', allowed_payment_method_types: ['card'], metadata: { userId: input.userId } },
          { idempotencyKey: key },
        ),
      );
      return { setupIntentId: intent.id, clientSecret: intent.client_secret ?? '', status: intent.status };
    },

    async retrieveSetupIntent(setupIntentId) {
      return setupStateOf(await call(() => stripe.setupIntents.retrieve(setupIntentId)));
    },

    async confirmSetupIntent(input, key) {
      try {
        return setupStateOf(
          await stripe.setupIntents.confirm(input.setupIntentId, { payment_method: input.paymentMethodId }, { idempotencyKey: key }),
        );
      } catch (error) {
        const setupIntent =
          error instanceof Stripe.errors.StripeError ? (rawOf(error).setup_intent as Stripe.SetupIntent | undefined) : undefined;
        if (error instanceof Stripe.errors.StripeCardError && setupIntent) {
          return { ...setupStateOf(setupIntent), lastErrorCode: error.decline_code || error.code || 'card_declined' };
        }
        throw providerError(error);
      }
    },

    async retrievePaymentMethod(paymentMethodId) {
      return cardDetailsOf(await call(() => stripe.paymentMethods.retrieve(paymentMethodId)));
    },

    async detachPaymentMethod(paymentMethodId) {
      try {
        await stripe.paymentMethods.detach(paymentMethodId);
      } catch (error) {
        // Already detached: the goal (never charge it again) is reached.
        if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'payment_method_unexpected_state') return;
        throw providerError(error);
      }
    },

    authorize(input, key) {
      return createIntent(input, key, 'manual');
    },

    charge(input, key) {
      return createIntent(input, key, 'automatic');
    },

    async capture(input, key): Promise<CaptureResult> {
      try {
        const intent = await stripe.paymentIntents.capture(
          input.paymentIntentId,
          { amount_to_capture: input.amountCents, expand: ['latest_charge'] },
          { idempotencyKey: key },
        );
        return {
          status: 'captured',
          paymentIntentId: intent.id,
          chargeId: idOf(intent.latest_charge as string | { id: string } | null),
          capturedCents: intent.amount_received,
        };
      } catch (error) {
        if (error instanceof Stripe.errors.StripeCardError) {
          return {
            status: 'failed',
            paymentIntentId: input.paymentIntentId,
            code: error.decline_code || error.code || 'card_declined',
            message: error.message,
            authorizationLost: false,
          };
        }
        if (error instanceof Stripe.errors.StripeInvalidRequestError) {
          const intent = rawOf(error).payment_intent as Stripe.PaymentIntent | undefined;
          if (error.code === 'charge_expired_for_capture' || intent?.status === 'canceled') {
            return {
              status: 'failed',
              paymentIntentId: input.paymentIntentId,
              code:
                error.code === 'charge_expired_for_capture' || intent?.cancellation_reason === 'automatic'
                  ? 'charge_expired_for_capture'
                  : (error.code ?? 'payment_intent_unexpected_state'),
              message: error.message,
              authorizationLost: true,
            };
          }
        }
        throw providerError(error);
      }
    },

    async cancelAuthorization(input, key) {
      const reason =
        input.reason && CANCELLATION_REASONS.has(input.reason)
          ? (input.reason as Stripe.PaymentIntentCancelParams.CancellationReason)
          : undefined;
      try {
        await stripe.paymentIntents.cancel(input.paymentIntentId, reason ? { cancellation_reason: reason } : {}, { idempotencyKey: key });
      } catch (error) {
        const intent =
          error instanceof Stripe.errors.StripeInvalidRequestError
            ? (rawOf(error).payment_intent as Stripe.PaymentIntent | undefined)
            : undefined;
        if (intent?.status !== 'canceled') throw providerError(error);
      }
      return { status: 'canceled' };
    },

    async refund(input, key) {
      const refund = await call(() =>
        stripe.refunds.create(
          {
            payment_intent: input.paymentIntentId,
            amount: input.amountCents,
            ...(input.reason ? { reason: input.reason } : {}),
            ...(input.metadata ? { metadata: input.metadata } : {}),
          },
          { idempotencyKey: key },
        ),
      );
      const status =
        refund.status === 'succeeded' || refund.status === 'pending'
          ? refund.status
          : refund.status === 'requires_action'
            ? 'pending'
            : 'failed';
      return { refundId: refund.id, status };
    },

    async transfer(input, key) {
      const transfer = await call(() =>
        stripe.transfers.create(
          {
            amount: input.amountCents,
            currency: 'usd',
            destination: input.destinationAccountId,
            description: input.description,
            metadata: input.metadata,
            ...(input.transferGroup ? { transfer_group: input.transferGroup } : {}),
            ...(input.sourceChargeId ? { source_transaction: input.sourceChargeId } : {}),
          },
          { idempotencyKey: key },
        ),
      );
      return { transferId: transfer.id };
    },

    async reverseTransfer(input, key) {
      const reversal = await call(() =>
        stripe.transfers.createReversal(input.transferId, { amount: input.amountCents }, { idempotencyKey: key }),
      );
      return { reversalId: reversal.id };
    },

    async createConnectedAccount(input, key) {
      const account = await call(() =>
        stripe.accounts.create(
          {
            type: 'express',
            country: 'US',
            email: input.email,
            capabilities: { transfers: { requested: true } },
            metadata: { userId: input.userId },
          },
          { idempotencyKey: key },
        ),
      );
      return { accountId: account.id };
    },

    async createOnboardingLink(input) {
      const link = await call(() =>
        stripe.accountLinks.create({
          account: input.accountId,
          refresh_url: input.refreshUrl,
          return_url: input.returnUrl,
          type: 'account_onboarding',
        }),
      );
      return { url: link.url, expiresAt: new Date(link.expires_at * 1000) };
    },

    async retrieveAccount(accountId) {
      const account = await call(() => stripe.accounts.retrieve(accountId));
      return {
        accountId: account.id,
        payoutsEnabled: account.payouts_enabled === true,
        chargesEnabled: account.charges_enabled === true,
        detailsSubmitted: account.details_submitted === true,
      };
    },

    async retrievePaymentIntent(paymentIntentId) {
      return intentStateOf(await call(() => stripe.paymentIntents.retrieve(paymentIntentId, { expand: ['latest_charge'] })));
    },
  };
}

/** Verifies a webhook's `Stripe-Signature` on the raw body and parses the event (throws on a bad one). */
export function verifyStripeWebhook(
  rawBody: Buffer | string,
  signature: string,
  secret: string,
  options: { toleranceSeconds: number; now: Date },
): Stripe.Event {
  return Stripe.webhooks.constructEvent(rawBody, signature, secret, options.toleranceSeconds, undefined, options.now.getTime());
}

export type StripeEvent = Stripe.Event;
