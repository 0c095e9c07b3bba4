import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { type Clock, systemClock } from '../../src/shared/clock.ts';

/**
 * A stateful fake of Stripe's HTTP API (the v1 endpoints InstaInstru uses), served by a local
 * HTTP server so the `stripe` SDK — in this process or in a child process (API, worker) — talks to
 * it over real HTTP (point it there with `fake.env`). Requests are form-encoded as the SDK sends
 * them; answers are shaped like Stripe's API reference objects. It honours `Idempotency-Key` as
 * Stripe does (same key + same parameters → the stored answer with `Idempotent-Replayed: true`;
 * other parameters → 400 `idempotency_error`), counts calls per key and per endpoint, generates
 * the events Stripe would send, signs them with the SDK's test helper, and scripts failures.
 *
 * Test cards (payment method ids, like Stripe's test mode): pm_card_visa (Visa, off-session
 * authorizations valid 4 days 18 hours), pm_card_mastercard (7 days), pm_card_chargeCustomerFail
 * (saves, every charge declined), pm_card_chargeDeclined and
 * pm_card_chargeDeclinedInsufficientFunds (declined when saved or charged),
 * pm_card_authenticationRequired (3-D Secure: saving needs the customer, off-session charges fail
 * with authentication_required).
 */

export const STRIPE_FAKE_SECRET_KEY = 'sk_test_instainstru_fake';
export const STRIPE_FAKE_WEBHOOK_SECRET = 'whsec_instainstru_fake';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface TestCard {
  brand: string;
  last4: string;
  fingerprint: string;
  /** How long an off-session manual-capture authorization stays capturable. */
  validityMs: number;
  onSetup: 'ok' | 'declined' | 'requires_action';
  onCharge: 'ok' | 'declined' | 'authentication_required';
  declineCode?: string;
}

const TEST_CARDS: Record<string, TestCard> = {
  pm_card_visa: {
    brand: 'visa',
    last4: '4242',
    fingerprint: 'Xt5EWLLDS7FJjR1c',
    validityMs: 4 * DAY + 18 * HOUR,
    onSetup: 'ok',
    onCharge: 'ok',
  },
  pm_card_mastercard: {
    brand: 'mastercard',
    last4: '4444',
    fingerprint: 'Ye3kLm7Qa9ZpT2sd',
    validityMs: 7 * DAY,
    onSetup: 'ok',
    onCharge: 'ok',
  },
  pm_card_chargeCustomerFail: {
    brand: 'visa',
    last4: '0341',
    fingerprint: 'Qw8rTy2uIo4pAs6d',
    validityMs: 4 * DAY + 18 * HOUR,
    onSetup: 'ok',
    onCharge: 'declined',
    declineCode: 'generic_decline',
  },
  pm_card_chargeDeclined: {
    brand: 'visa',
    last4: '0002',
    fingerprint: 'Zx1cVb3nMl5kJh7g',
    validityMs: 4 * DAY + 18 * HOUR,
    onSetup: 'declined',
    onCharge: 'declined',
    declineCode: 'generic_decline',
  },
  pm_card_chargeDeclinedInsufficientFunds: {
    brand: 'visa',
    last4: '9995',
    fingerprint: 'Pl0oKi9jUh8yGt7f',
    validityMs: 4 * DAY + 18 * HOUR,
    onSetup: 'declined',
    onCharge: 'declined',
    declineCode: 'insufficient_funds',
  },
  pm_card_authenticationRequired: {
    brand: 'visa',
    last4: '3184',
    fingerprint: 'Mn6bVc5xZa4sDf3g',
    validityMs: 4 * DAY + 18 * HOUR,
    onSetup: 'requires_action',
    onCharge: 'authentication_required',
  },
};

type StripeObject = Record<string, any> & { id: string; object: string };

export interface FakeRequest {
  method: string;
  path: string;
  idempotencyKey: string | null;
  /** Answered from the idempotency store (not executed again). */
  replayed: boolean;
  /** The endpoint ran (state may have changed), whether or not the answer reached the client. */
  executed: boolean;
  status: number;
  params: Record<string, any>;
}

export interface FailureRule {
  /** `server_error`: 500 before executing; `rate_limit`: 429 before executing; `network`: the
   * connection is dropped; `delay`: the answer is held `delayMs` (client timeouts). */
  kind: 'server_error' | 'rate_limit' | 'network' | 'delay';
  /** `before`: nothing happened at Stripe; `after`: Stripe executed (and stored the answer) but the client never got it. */
  when?: 'before' | 'after';
  delayMs?: number;
  method?: string;
  path?: string | RegExp;
}

export interface DeclineScript {
  /** Stripe error code: card_declined, expired_card, authentication_required… */
  code?: string;
  /** The issuer's reason for card_declined: insufficient_funds, generic_decline, do_not_honor… */
  declineCode?: string;
  message?: string;
}

export interface SignedWebhook {
  event: StripeObject;
  /** The raw body as Stripe sends it. */
  body: string;
  signature: string;
  /** content-type + stripe-signature, ready to send. */
  headers: Record<string, string>;
}

export interface StripeFake {
  /** http://127.0.0.1:port — STRIPE_API_BASE_URL. */
  readonly url: string;
  /** STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE_URL for an API/worker (or child process) using this fake. */
  readonly env: Record<string, string>;
  readonly webhookSecret: string;
  readonly state: {
    customers: Map<string, StripeObject>;
    setupIntents: Map<string, StripeObject>;
    paymentMethods: Map<string, StripeObject>;
    paymentIntents: Map<string, StripeObject>;
    charges: Map<string, StripeObject>;
    refunds: Map<string, StripeObject>;
    transfers: Map<string, StripeObject>;
    transferReversals: Map<string, StripeObject>;
    accounts: Map<string, StripeObject>;
  };
  /** Every request received, oldest first. */
  readonly requests: FakeRequest[];
  /** Events Stripe would have sent, in the order they happened. */
  readonly events: StripeObject[];
  /** Requests that carried this Idempotency-Key (retries and replays included). */
  callsFor(idempotencyKey: string): number;
  /** Times the request under this key really ran (at most 1 if Stripe's idempotency works). */
  executionsFor(idempotencyKey: string): number;
  /** Requests to an endpoint, e.g. countFor('POST', '/v1/payment_intents') or a RegExp. */
  countFor(method: string, path: string | RegExp): number;
  /** The next PaymentIntent confirmation (authorize/charge) is declined. */
  declineNext(script?: DeclineScript): void;
  /** The next capture fails with a card error (the authorization stays). */
  failCaptureNext(script?: DeclineScript): void;
  /** The next `count` matching requests fail as the rule says. */
  failNext(count: number, rule: FailureRule): void;
  /** The authorization lapses now: the intent becomes canceled (automatic), its capture fails. */
  expireAuthorization(paymentIntentId: string): void;
  /** Sets account flags as onboarding would, and emits account.updated. */
  updateAccount(
    accountId: string,
    flags: { payouts_enabled?: boolean; charges_enabled?: boolean; details_submitted?: boolean },
  ): StripeObject;
  /** Finishes an Express account's onboarding (all flags true). */
  completeOnboarding(accountId: string): StripeObject;
  /** Opens a dispute on a charge (charge.dispute.created). */
  createDispute(chargeId: string, reason?: string): StripeObject;
  /** A new event of `type` about `object` (a snapshot), signed now (or at `timestamp`, seconds). */
  signedEvent(type: string, object: StripeObject, options?: { timestamp?: number; id?: string }): SignedWebhook;
  /** Signs an existing event (e.g. one of `events`). */
  sign(event: StripeObject, options?: { timestamp?: number; secret?: string }): SignedWebhook;
  /** Events of the given types (all when omitted) about one object. */
  eventsFor(objectId: string, types?: string[]): StripeObject[];
  reset(): void;
  close(): Promise<void>;
}

/** Decodes Stripe's form encoding (`metadata[bookingId]=…`, `expand[0]=…`) into nested values. */
export function decodeStripeForm(text: string): Record<string, any> {
  const result: Record<string, any> = {};
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const [rawKey = '', rawValue = ''] = pair.split('=');
    const key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
    const value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    const parts = key.split(/\[|\]\[|\]/).filter((part, index) => index === 0 || part !== '');
    let node: any = result;
    parts.forEach((part, index) => {
      const last = index === parts.length - 1;
      if (last) {
        node[part] = value;
        return;
      }
      const nextIsIndex = /^\d+$/.test(parts[index + 1] ?? '');
      node[part] ??= nextIsIndex ? [] : {};
      node = node[part];
    });
  }
  return result;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message ?? 'stripe error'));
  }
}

function invalidRequest(message: string, extra: Record<string, unknown> = {}, status = 400): StripeHttpError {
  return new StripeHttpError(status, { type: 'invalid_request_error', message, ...extra });
}

function missing(kind: string, id: string, param = 'id'): StripeHttpError {
  return invalidRequest(`No such ${kind}: '${id}'`, { code: 'resource_missing', param }, 404);
}

function toInt(value: unknown, param: string): number {
  const number = Number(value);
  if (typeof value !== 'string' || !/^-?\d+$/.test(value) || !Number.isSafeInteger(number)) {
    throw invalidRequest(`Invalid integer: ${String(value)}`, { code: 'parameter_invalid_integer', param });
  }
  return number;
}

function toBool(value: unknown): boolean {
  return value === 'true' || value === true;
}

/** Starts the fake on a random loopback port. `clock` drives `created`, `capture_before` and signatures. */
export async function startStripeFake(options: { clock?: Clock; webhookSecret?: string } = {}): Promise<StripeFake> {
  const clock = options.clock ?? systemClock;
  const webhookSecret = options.webhookSecret ?? STRIPE_FAKE_WEBHOOK_SECRET;
  const sdk = new Stripe(STRIPE_FAKE_SECRET_KEY);
  const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);
  const state = {
    customers: new Map<string, StripeObject>(),
    setupIntents: new Map<string, StripeObject>(),
    paymentMethods: new Map<string, StripeObject>(),
    paymentIntents: new Map<string, StripeObject>(),
    charges: new Map<string, StripeObject>(),
    refunds: new Map<string, StripeObject>(),
    transfers: new Map<string, StripeObject>(),
    transferReversals: new Map<string, StripeObject>(),
    accounts: new Map<string, StripeObject>(),
  };
  const requests: FakeRequest[] = [];
  const events: StripeObject[] = [];
  const idempotency = new Map<string, { fingerprint: string; status: number; body: string }>();
  let declines: DeclineScript[] = [];
  let captureFailures: DeclineScript[] = [];
  let failures: Array<FailureRule & { remaining: number }> = [];
  /** Card behaviour per payment method id (test cards and the cards made from them). */
  const cardOf = new Map<string, TestCard>();
  /** Test-mode secret keys are the only credential this fake accepts. */
  const expectedAuthorization = `Bearer ${STRIPE_FAKE_SECRET_KEY}`;

  const newObjectId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
  const snapshot = (object: StripeObject): StripeObject => structuredClone(object);

  function emit(type: string, object: StripeObject, request: { idempotencyKey: string | null } | null, previous?: Record<string, unknown>) {
    events.push({
      id: newObjectId('evt'),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: nowSeconds(),
      data: { object: snapshot(expandedForEvent(object)), ...(previous ? { previous_attributes: previous } : {}) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: request ? newObjectId('req') : null, idempotency_key: request?.idempotencyKey ?? null },
      type,
    });
  }

  function expandedForEvent(object: StripeObject): StripeObject {
    // Events carry objects unexpanded, as Stripe sends them.
    if (object.object === 'payment_intent' && object.latest_charge && typeof object.latest_charge === 'object') {
      return { ...object, latest_charge: object.latest_charge.id };
    }
    return object;
  }

  function cardFor(paymentMethodId: string): TestCard {
    const card = cardOf.get(paymentMethodId) ?? TEST_CARDS[paymentMethodId];
    if (!card) throw missing('PaymentMethod', paymentMethodId, 'payment_method');
    return card;
  }

  function paymentMethodObject(paymentMethodId: string, card: TestCard, customer: string | null): StripeObject {
    return {
      id: paymentMethodId,
      object: 'payment_method',
      type: 'card',
      allow_redisplay: 'unspecified',
      billing_details: {
        address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
        email: null,
        name: null,
        phone: null,
      },
      card: {
        brand: card.brand,
        display_brand: card.brand,
        checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
        country: 'US',
        exp_month: 12,
        exp_year: new Date(clock.now()).getUTCFullYear() + 3,
        fingerprint: card.fingerprint,
        funding: 'credit',
        generated_from: null,
        last4: card.last4,
        networks: { available: [card.brand], preferred: null },
        three_d_secure_usage: { supported: true },
        wallet: null,
      },
      created: nowSeconds(),
      customer,
      livemode: false,
      metadata: {},
    };
  }

  /** A customer's own card made from a test card (what confirming a SetupIntent with pm_card_visa does). */
  function cloneCard(testPaymentMethodId: string, customer: string | null): StripeObject {
    const card = cardFor(testPaymentMethodId);
    const existing = state.paymentMethods.get(testPaymentMethodId);
    if (existing) {
      existing.customer = customer;
      return existing;
    }
    const id = newObjectId('pm');
    cardOf.set(id, card);
    const object = paymentMethodObject(id, card, customer);
    state.paymentMethods.set(id, object);
    return object;
  }

  function lapseIfExpired(intent: StripeObject): void {
    if (intent.status !== 'requires_capture') return;
    const charge = state.charges.get(intent.latest_charge as string);
    const captureBefore = charge?.payment_method_details?.card?.capture_before as number | undefined;
    if (captureBefore !== undefined && nowSeconds() >= captureBefore) {
      intent.status = 'canceled';
      intent.canceled_at = nowSeconds();
      intent.cancellation_reason = 'automatic';
      intent.amount_capturable = 0;
      emit('payment_intent.canceled', intent, null);
    }
  }

  function intentView(intent: StripeObject, expand: string[]): StripeObject {
    lapseIfExpired(intent);
    const view = snapshot(intent);
    if (expand.includes('latest_charge') && typeof view.latest_charge === 'string')
      view.latest_charge = snapshot(state.charges.get(view.latest_charge)!);
    if (expand.includes('payment_method') && typeof view.payment_method === 'string') {
      const method = state.paymentMethods.get(view.payment_method);
      if (method) view.payment_method = snapshot(method);
    }
    return view;
  }

  function expandOf(params: Record<string, any>): string[] {
    const expand = params.expand;
    if (Array.isArray(expand)) return expand.map(String);
    if (expand && typeof expand === 'object') return Object.values(expand).map(String);
    return [];
  }

  function metadataOf(params: Record<string, any>): Record<string, string> {
    return params.metadata && typeof params.metadata === 'object' ? { ...params.metadata } : {};
  }

  function declineError(
    intent: StripeObject,
    charge: StripeObject | null,
    script: DeclineScript,
    paymentMethodId: string,
  ): StripeHttpError {
    const code = script.code ?? 'card_declined';
    const error = {
      type: 'card_error',
      code,
      ...(code === 'card_declined' ? { decline_code: script.declineCode ?? 'generic_decline' } : {}),
      message:
        script.message ??
        (code === 'authentication_required'
          ? 'Your card was declined. This transaction requires authentication.'
          : script.declineCode === 'insufficient_funds'
            ? 'Your card has insufficient funds.'
            : 'Your card was declined.'),
      doc_url: `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`,
      ...(charge ? { charge: charge.id } : {}),
      payment_method: snapshot(
        state.paymentMethods.get(paymentMethodId) ?? paymentMethodObject(paymentMethodId, cardFor(paymentMethodId), null),
      ),
    };
    intent.last_payment_error = { ...error };
    intent.status = 'requires_payment_method';
    intent.payment_method = null;
    emit('payment_intent.payment_failed', intent, null);
    return new StripeHttpError(402, { ...error, payment_intent: snapshot(intent) });
  }

  function createCharge(intent: StripeObject, card: TestCard, capture: boolean): StripeObject {
    const created = nowSeconds();
    const charge: StripeObject = {
      id: newObjectId('ch'),
      object: 'charge',
      amount: intent.amount,
      amount_captured: capture ? intent.amount : 0,
      amount_refunded: 0,
      balance_transaction: capture ? newObjectId('txn') : null,
      billing_details: { address: null, email: null, name: null, phone: null },
      captured: capture,
      created,
      currency: 'usd',
      customer: intent.customer,
      description: intent.description,
      disputed: false,
      failure_code: null,
      failure_message: null,
      livemode: false,
      metadata: { ...intent.metadata },
      outcome: {
        network_status: 'approved_by_network',
        reason: null,
        risk_level: 'normal',
        seller_message: 'Payment complete.',
        type: 'authorized',
      },
      paid: true,
      payment_intent: intent.id,
      payment_method: intent.payment_method,
      payment_method_details: {
        type: 'card',
        card: {
          amount_authorized: intent.amount,
          brand: card.brand,
          capture_before: capture ? null : Math.floor((clock.now().getTime() + card.validityMs) / 1000),
          checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: null },
          country: 'US',
          exp_month: 12,
          exp_year: new Date(clock.now()).getUTCFullYear() + 3,
          extended_authorization: { status: 'disabled' },
          fingerprint: card.fingerprint,
          funding: 'credit',
          last4: card.last4,
          network: card.brand,
        },
      },
      refunded: false,
      status: 'succeeded',
      transfer_group: intent.transfer_group,
    };
    state.charges.set(charge.id, charge);
    return charge;
  }

  function confirmIntent(intent: StripeObject, request: { idempotencyKey: string | null }): void {
    const paymentMethodId = intent.payment_method as string | null;
    if (!paymentMethodId)
      throw invalidRequest('You cannot confirm this PaymentIntent because it has no payment method.', {
        code: 'payment_intent_unexpected_state',
      });
    const card = cardFor(paymentMethodId);
    const method = state.paymentMethods.get(paymentMethodId);
    if (method && intent.customer && method.customer !== intent.customer) {
      throw invalidRequest(`The provided PaymentMethod ${paymentMethodId} does not belong to the Customer ${intent.customer}.`, {
        param: 'payment_method',
      });
    }
    const scripted = declines.shift();
    if (scripted) throw declineError(intent, null, scripted, paymentMethodId);
    if (card.onCharge === 'authentication_required' && intent.off_session) {
      throw declineError(intent, null, { code: 'authentication_required' }, paymentMethodId);
    }
    if (card.onCharge === 'declined') {
      const charge = createCharge(intent, card, false);
      charge.status = 'failed';
      charge.paid = false;
      charge.outcome = {
        network_status: 'declined_by_network',
        reason: card.declineCode,
        type: 'issuer_declined',
        seller_message: 'The bank did not return any further details with this decline.',
      };
      charge.failure_code = 'card_declined';
      charge.payment_method_details.card.capture_before = null;
      intent.latest_charge = charge.id;
      throw declineError(
        intent,
        charge,
        { code: 'card_declined', ...(card.declineCode ? { declineCode: card.declineCode } : {}) },
        paymentMethodId,
      );
    }
    const automatic = intent.capture_method !== 'manual';
    const charge = createCharge(intent, card, automatic);
    intent.latest_charge = charge.id;
    intent.last_payment_error = null;
    if (automatic) {
      intent.status = 'succeeded';
      intent.amount_received = intent.amount;
      emit('charge.succeeded', charge, request);
      emit('payment_intent.succeeded', intent, request);
    } else {
      intent.status = 'requires_capture';
      intent.amount_capturable = intent.amount;
      emit('charge.succeeded', charge, request);
      emit('payment_intent.amount_capturable_updated', intent, request);
    }
  }

  type Handler = (params: Record<string, any>, match: RegExpMatchArray, request: { idempotencyKey: string | null }) => StripeObject;
  const routes: Array<{ method: string; pattern: RegExp; handler: Handler }> = [];
  const route = (method: string, pattern: RegExp, handler: Handler) => routes.push({ method, pattern, handler });
  const get = <T extends StripeObject>(map: Map<string, StripeObject>, kind: string, id: string, param = 'id'): T => {
    const found = map.get(id);
    if (!found) throw missing(kind, id, param);
    return found as T;
  };

  route('POST', /^\/v1\/customers$/, (params) => {
    const customer: StripeObject = {
      id: newObjectId('cus'),
      object: 'customer',
      address: null,
      balance: 0,
      created: nowSeconds(),
      currency: null,
      default_source: null,
      delinquent: false,
      description: params.description ?? null,
      email: params.email ?? null,
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
      livemode: false,
      metadata: metadataOf(params),
      name: params.name ?? null,
      phone: null,
      preferred_locales: [],
      shipping: null,
      tax_exempt: 'none',
    };
    state.customers.set(customer.id, customer);
    return customer;
  });
  route('GET', /^\/v1\/customers\/([^/]+)$/, (_params, match) => snapshot(get(state.customers, 'customer', match[1]!)));

  function confirmSetupIntent(intent: StripeObject, paymentMethodId: string, request: { idempotencyKey: string | null }): StripeObject {
    if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(intent.status)) {
      throw invalidRequest(`You cannot confirm this SetupIntent because it has a status of ${intent.status}.`, {
        code: 'setup_intent_unexpected_state',
        setup_intent: snapshot(intent),
      });
    }
    const card = cardFor(paymentMethodId);
    if (card.onSetup === 'declined') {
      const error = {
        type: 'card_error',
        code: 'card_declined',
        decline_code: card.declineCode ?? 'generic_decline',
        message: 'Your card was declined.',
      };
      intent.status = 'requires_payment_method';
      intent.last_setup_error = error;
      emit('setup_intent.setup_failed', intent, request);
      throw new StripeHttpError(402, { ...error, setup_intent: snapshot(intent) });
    }
    const method = cloneCard(paymentMethodId, intent.customer as string | null);
    intent.payment_method = method.id;
    if (card.onSetup === 'requires_action') {
      intent.status = 'requires_action';
      intent.next_action = { type: 'use_stripe_sdk', use_stripe_sdk: {} };
      emit('setup_intent.requires_action', intent, request);
      return snapshot(intent);
    }
    intent.status = 'succeeded';
    intent.last_setup_error = null;
    intent.next_action = null;
    emit('payment_method.attached', method, request);
    emit('setup_intent.succeeded', intent, request);
    return snapshot(intent);
  }

  route('POST', /^\/v1\/setup_intents$/, (params, _match, request) => {
    if (params.customer) get(state.customers, 'customer', params.customer, 'customer');
    const id = newObjectId('seti');
    const intent: StripeObject = {
      id,
      object: 'setup_intent',
      application: null,
      cancellation_reason: null,
      client_secret: `${id}_secret_${randomBytes(16).toString('base64url')}`,
      created: nowSeconds(),
      customer: params.customer ?? null,
      description: params.description ?? null,
      last_setup_error: null,
      latest_attempt: null,
      livemode: false,
      metadata: metadataOf(params),
      next_action: null,
      payment_method: null,
      allowed_payment_method_types: Array.isArray(params.allowed_payment_method_types) ? params.allowed_payment_method_types : null,
      payment_method_types: Array.isArray(params.allowed_payment_method_types) ? params.allowed_payment_method_types : ['card'],
      status: 'requires_payment_method',
      usage: params.usage ?? 'off_session',
    };
    state.setupIntents.set(id, intent);
    emit('setup_intent.created', intent, request);
    if (toBool(params.confirm)) {
      if (!params.payment_method) throw invalidRequest('A payment method is required to confirm.', { param: 'payment_method' });
      return confirmSetupIntent(intent, params.payment_method, request);
    }
    return snapshot(intent);
  });
  route('GET', /^\/v1\/setup_intents\/([^/]+)$/, (_params, match) => snapshot(get(state.setupIntents, 'setupintent', match[1]!)));
  route('POST', /^\/v1\/setup_intents\/([^/]+)\/confirm$/, (params, match, request) => {
    const intent = get(state.setupIntents, 'setupintent', match[1]!);
    const paymentMethodId = params.payment_method ?? intent.payment_method;
    if (!paymentMethodId) throw invalidRequest('A payment method is required to confirm.', { param: 'payment_method' });
    return confirmSetupIntent(intent, paymentMethodId, request);
  });

  route('GET', /^\/v1\/payment_methods\/([^/]+)$/, (_params, match) => {
    const id = match[1]!;
    const stored = state.paymentMethods.get(id);
    if (stored) return snapshot(stored);
    const card = TEST_CARDS[id];
    if (!card) throw missing('PaymentMethod', id);
    return paymentMethodObject(id, card, null);
  });
  route('POST', /^\/v1\/payment_methods\/([^/]+)\/detach$/, (_params, match, request) => {
    const method = get(state.paymentMethods, 'PaymentMethod', match[1]!);
    if (!method.customer)
      throw invalidRequest('The payment method you provided is not attached to a customer so detachment is impossible.', {
        code: 'payment_method_unexpected_state',
      });
    const previous = { customer: method.customer };
    method.customer = null;
    emit('payment_method.detached', method, request, previous);
    return snapshot(method);
  });

  function createIntent(params: Record<string, any>, request: { idempotencyKey: string | null }): StripeObject {
    const amount = toInt(params.amount, 'amount');
    if (amount < 50) throw invalidRequest('Amount must be at least $0.50 usd', { code: 'amount_too_small', param: 'amount' });
    if (amount > 99_999_999) throw invalidRequest('Amount must be no more than $999,999.99', { code: 'amount_too_large', param: 'amount' });
    if (params.currency !== 'usd') throw invalidRequest('Invalid currency', { code: 'parameter_invalid_string', param: 'currency' });
    if (params.customer) get(state.customers, 'customer', params.customer, 'customer');
    const id = newObjectId('pi');
    const intent: StripeObject = {
      id,
      object: 'payment_intent',
      allowed_payment_method_types: Array.isArray(params.allowed_payment_method_types) ? params.allowed_payment_method_types : null,
      amount,
      amount_capturable: 0,
      amount_details: { tip: {} },
      amount_received: 0,
      application: null,
      application_fee_amount: null,
      automatic_payment_methods: null,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: params.capture_method ?? 'automatic_async',
      client_secret: `${id}_secret_${randomBytes(16).toString('base64url')}`,
      confirmation_method: params.confirmation_method ?? 'automatic',
      created: nowSeconds(),
      currency: 'usd',
      customer: params.customer ?? null,
      description: params.description ?? null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: metadataOf(params),
      next_action: null,
      on_behalf_of: null,
      payment_method: params.payment_method ?? null,
      payment_method_types: Array.isArray(params.allowed_payment_method_types) ? params.allowed_payment_method_types : ['card'],
      processing: null,
      receipt_email: null,
      setup_future_usage: null,
      shipping: null,
      statement_descriptor: params.statement_descriptor ?? null,
      status: params.payment_method ? 'requires_confirmation' : 'requires_payment_method',
      transfer_data: null,
      transfer_group: params.transfer_group ?? null,
    };
    // Not part of Stripe's object: remembered to decide how an off-session 3-D Secure card fails.
    Object.defineProperty(intent, 'off_session', {
      value: toBool(params.off_session) || params.off_session === 'one_off' || params.off_session === 'recurring',
      enumerable: false,
      writable: true,
    });
    state.paymentIntents.set(id, intent);
    emit('payment_intent.created', intent, request);
    if (toBool(params.confirm)) confirmIntent(intent, request);
    return intent;
  }

  route('POST', /^\/v1\/payment_intents$/, (params, _match, request) => intentView(createIntent(params, request), expandOf(params)));
  route('GET', /^\/v1\/payment_intents\/([^/]+)$/, (params, match) =>
    intentView(get(state.paymentIntents, 'payment_intent', match[1]!), expandOf(params)),
  );
  route('POST', /^\/v1\/payment_intents\/([^/]+)\/capture$/, (params, match, request) => {
    const intent = get(state.paymentIntents, 'payment_intent', match[1]!);
    lapseIfExpired(intent);
    if (intent.status !== 'requires_capture') {
      throw invalidRequest(
        `This PaymentIntent could not be captured because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
        {
          code: 'payment_intent_unexpected_state',
          payment_intent: intentView(intent, []),
        },
      );
    }
    const amount = params.amount_to_capture === undefined ? intent.amount_capturable : toInt(params.amount_to_capture, 'amount_to_capture');
    if (amount > intent.amount_capturable) {
      throw invalidRequest('The amount to capture is greater than the amount capturable.', {
        code: 'amount_too_large',
        param: 'amount_to_capture',
      });
    }
    const charge = state.charges.get(intent.latest_charge)!;
    const failure = captureFailures.shift();
    if (failure) {
      const code = failure.code ?? 'card_declined';
      intent.last_payment_error = {
        type: 'card_error',
        code,
        decline_code: failure.declineCode ?? 'generic_decline',
        message: failure.message ?? 'Your card was declined.',
      };
      throw new StripeHttpError(402, { ...intent.last_payment_error, charge: charge.id, payment_intent: intentView(intent, []) });
    }
    intent.status = 'succeeded';
    intent.amount_received = amount;
    intent.amount_capturable = 0;
    charge.captured = true;
    charge.amount_captured = amount;
    charge.balance_transaction = newObjectId('txn');
    // A partial capture releases the rest (refunded to the hold, shown as amount_refunded).
    charge.amount_refunded = intent.amount - amount;
    charge.payment_method_details.card.capture_before = null;
    emit('charge.captured', charge, request);
    emit('payment_intent.succeeded', intent, request);
    return intentView(intent, expandOf(params));
  });
  route('POST', /^\/v1\/payment_intents\/([^/]+)\/cancel$/, (params, match, request) => {
    const intent = get(state.paymentIntents, 'payment_intent', match[1]!);
    lapseIfExpired(intent);
    if (
      !['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing'].includes(intent.status)
    ) {
      throw invalidRequest(
        `You cannot cancel this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.`,
        { code: 'payment_intent_unexpected_state', payment_intent: intentView(intent, []) },
      );
    }
    intent.status = 'canceled';
    intent.canceled_at = nowSeconds();
    intent.cancellation_reason = params.cancellation_reason ?? null;
    intent.amount_capturable = 0;
    emit('payment_intent.canceled', intent, request);
    return intentView(intent, expandOf(params));
  });

  route('GET', /^\/v1\/charges\/([^/]+)$/, (_params, match) => snapshot(get(state.charges, 'charge', match[1]!)));

  route('POST', /^\/v1\/refunds$/, (params, _match, request) => {
    const intent = params.payment_intent
      ? get(state.paymentIntents, 'payment_intent', params.payment_intent, 'payment_intent')
      : get(state.paymentIntents, 'charge', state.charges.get(params.charge)?.payment_intent ?? String(params.charge), 'charge');
    if (intent.status !== 'succeeded') {
      throw invalidRequest(`This PaymentIntent (${intent.id}) does not have a successful charge to refund.`, {
        code: 'charge_not_refundable',
      });
    }
    const charge = state.charges.get(intent.latest_charge)!;
    const released = charge.amount - charge.amount_captured;
    const refundable = charge.amount_captured - (charge.amount_refunded - released);
    if (refundable <= 0) throw invalidRequest(`Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded' });
    const amount = params.amount === undefined ? refundable : toInt(params.amount, 'amount');
    if (amount > refundable) {
      throw invalidRequest(
        `Refund amount ($${(amount / 100).toFixed(2)}) is greater than unrefunded amount on charge ($${(refundable / 100).toFixed(2)})`,
        { param: 'amount' },
      );
    }
    const refund: StripeObject = {
      id: newObjectId('re'),
      object: 'refund',
      amount,
      balance_transaction: newObjectId('txn'),
      charge: charge.id,
      created: nowSeconds(),
      currency: 'usd',
      destination_details: { card: { reference_status: 'pending', type: 'refund' }, type: 'card' },
      metadata: metadataOf(params),
      payment_intent: intent.id,
      reason: params.reason ?? null,
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
    };
    state.refunds.set(refund.id, refund);
    const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded >= charge.amount;
    emit('refund.created', refund, request);
    emit('charge.refunded', charge, request, previous);
    return snapshot(refund);
  });

  route('POST', /^\/v1\/transfers$/, (params, _match, request) => {
    const amount = toInt(params.amount, 'amount');
    if (amount < 1) throw invalidRequest('Invalid positive integer', { code: 'parameter_invalid_integer', param: 'amount' });
    const account = state.accounts.get(params.destination);
    if (!account) throw invalidRequest(`No such destination: '${params.destination}'`, { code: 'resource_missing', param: 'destination' });
    if (account.capabilities?.transfers !== 'active') {
      throw invalidRequest(
        'Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments',
        { code: 'insufficient_capabilities_for_transfer', param: 'destination' },
      );
    }
    if (params.source_transaction) {
      const charge = get(state.charges, 'charge', params.source_transaction, 'source_transaction');
      const alreadyFromIt = [...state.transfers.values()]
        .filter((transfer) => transfer.source_transaction === charge.id)
        .reduce((sum, transfer) => sum + transfer.amount, 0);
      if (!charge.captured || amount + alreadyFromIt > charge.amount_captured) {
        throw invalidRequest('The transfer amount exceeds the available amount of the source transaction.', {
          code: 'amount_too_large',
          param: 'amount',
        });
      }
    }
    const id = newObjectId('tr');
    const transfer: StripeObject = {
      id,
      object: 'transfer',
      amount,
      amount_reversed: 0,
      balance_transaction: newObjectId('txn'),
      created: nowSeconds(),
      currency: 'usd',
      description: params.description ?? null,
      destination: params.destination,
      destination_payment: newObjectId('py'),
      livemode: false,
      metadata: metadataOf(params),
      reversals: { object: 'list', data: [], has_more: false, total_count: 0, url: `/v1/transfers/${id}/reversals` },
      reversed: false,
      source_transaction: params.source_transaction ?? null,
      source_type: 'card',
      transfer_group: params.transfer_group ?? null,
    };
    state.transfers.set(id, transfer);
    emit('transfer.created', transfer, request);
    return snapshot(transfer);
  });
  route('POST', /^\/v1\/transfers\/([^/]+)\/reversals$/, (params, match, request) => {
    const transfer = get(state.transfers, 'transfer', match[1]!);
    const reversible = transfer.amount - transfer.amount_reversed;
    const amount = params.amount === undefined ? reversible : toInt(params.amount, 'amount');
    if (amount < 1 || amount > reversible) {
      throw invalidRequest(
        `Transfer reversal amount ($${(amount / 100).toFixed(2)}) is greater than the remaining transfer amount ($${(reversible / 100).toFixed(2)}).`,
        { param: 'amount' },
      );
    }
    const reversal: StripeObject = {
      id: newObjectId('trr'),
      object: 'transfer_reversal',
      amount,
      balance_transaction: newObjectId('txn'),
      created: nowSeconds(),
      currency: 'usd',
      destination_payment_refund: newObjectId('pyr'),
      metadata: metadataOf(params),
      source_refund: null,
      transfer: transfer.id,
    };
    state.transferReversals.set(reversal.id, reversal);
    transfer.amount_reversed += amount;
    transfer.reversed = transfer.amount_reversed >= transfer.amount;
    transfer.reversals.data.unshift(snapshot(reversal));
    transfer.reversals.total_count += 1;
    emit('transfer.reversed', transfer, request);
    return snapshot(reversal);
  });

  route('POST', /^\/v1\/accounts$/, (params, _match, request) => {
    const id = newObjectId('acct');
    const account: StripeObject = {
      id,
      object: 'account',
      business_profile: { mcc: null, name: null, url: null },
      business_type: null,
      capabilities: { transfers: 'inactive' },
      charges_enabled: false,
      controller: { type: 'application', is_controller: true, stripe_dashboard: { type: 'express' } },
      country: params.country ?? 'US',
      created: nowSeconds(),
      default_currency: 'usd',
      details_submitted: false,
      email: params.email ?? null,
      metadata: metadataOf(params),
      payouts_enabled: false,
      requirements: {
        currently_due: ['business_type', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip'],
        disabled_reason: 'requirements.past_due',
        eventually_due: ['business_type', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip'],
        past_due: ['business_type', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip'],
        pending_verification: [],
      },
      type: params.type ?? 'express',
    };
    state.accounts.set(id, account);
    emit('account.updated', account, request);
    return snapshot(account);
  });
  route('GET', /^\/v1\/accounts\/([^/]+)$/, (_params, match) => snapshot(get(state.accounts, 'account', match[1]!)));
  route('POST', /^\/v1\/account_links$/, (params) => {
    get(state.accounts, 'account', params.account, 'account');
    if (!params.refresh_url || !params.return_url)
      throw invalidRequest('Missing required param: return_url.', { code: 'parameter_missing', param: 'return_url' });
    const created = nowSeconds();
    return {
      object: 'account_link',
      created,
      expires_at: created + 300,
      url: `https://connect.stripe.com/setup/e/${params.account}/${randomBytes(9).toString('base64url')}`,
    } as unknown as StripeObject;
  });

  function takeFailure(method: string, path: string): (FailureRule & { remaining: number }) | undefined {
    const rule = failures.find(
      (candidate) =>
        candidate.remaining > 0 &&
        (!candidate.method || candidate.method.toUpperCase() === method) &&
        (!candidate.path || (typeof candidate.path === 'string' ? candidate.path === path : candidate.path.test(path))),
    );
    if (rule) {
      rule.remaining -= 1;
      failures = failures.filter((candidate) => candidate.remaining > 0);
    }
    return rule;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const params = method === 'GET' ? decodeStripeForm(url.search.slice(1)) : decodeStripeForm(Buffer.concat(chunks).toString('utf8'));
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const idempotencyKey = method === 'POST' ? (header('idempotency-key') ?? null) : null;
    const record: FakeRequest = { method, path, idempotencyKey, replayed: false, executed: false, status: 0, params };
    requests.push(record);
    const requestId = newObjectId('req');
    const send = (status: number, body: string, extra: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, {
        'content-type': 'application/json',
        'request-id': requestId,
        'stripe-version': Stripe.API_VERSION,
        ...extra,
      });
      res.end(body);
    };
    const drop = () => {
      record.status = -1;
      req.socket.destroy();
    };

    if (header('authorization') !== expectedAuthorization) {
      send(401, JSON.stringify({ error: { type: 'invalid_request_error', message: 'Invalid API Key provided.' } }));
      return;
    }
    const failure = takeFailure(method, path);
    if (failure && (failure.when ?? 'before') === 'before') {
      if (failure.kind === 'network') return drop();
      if (failure.kind === 'server_error') {
        send(500, JSON.stringify({ error: { type: 'api_error', message: 'An unknown error occurred' } }));
        return;
      }
      if (failure.kind === 'rate_limit') {
        send(
          429,
          JSON.stringify({
            error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly.' },
          }),
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, failure.delayMs ?? 1_000));
    }

    const fingerprint = `${method} ${path} ${canonical(params)}`;
    if (idempotencyKey) {
      if (idempotencyKey.length > 255) {
        send(
          400,
          JSON.stringify({ error: { type: 'invalid_request_error', message: 'Idempotency keys must be at most 255 characters long.' } }),
        );
        return;
      }
      const stored = idempotency.get(idempotencyKey);
      if (stored) {
        if (stored.fingerprint !== fingerprint) {
          send(
            400,
            JSON.stringify({
              error: {
                type: 'idempotency_error',
                message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
              },
            }),
          );
          return;
        }
        record.replayed = true;
        if (failure?.kind === 'network') return drop();
        send(stored.status, stored.body, { 'idempotent-replayed': 'true', 'original-request': requestId });
        return;
      }
    }

    const target = routes.find((candidate) => candidate.method === method && candidate.pattern.test(path));
    let status: number;
    let body: string;
    if (!target) {
      status = 404;
      body = JSON.stringify({ error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}).` } });
    } else {
      try {
        const result = target.handler(params, path.match(target.pattern)!, { idempotencyKey });
        record.executed = true;
        status = 200;
        body = JSON.stringify(result);
      } catch (error) {
        if (!(error instanceof StripeHttpError)) throw error;
        // Card errors change state (a failed attempt), so Stripe stores and replays them; so do we.
        record.executed = error.status === 402;
        status = error.status;
        body = JSON.stringify({ error: { ...error.body, request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}` } });
      }
    }
    if (idempotencyKey && target && status !== 404) idempotency.set(idempotencyKey, { fingerprint, status, body });
    if (failure && failure.when === 'after') {
      if (failure.kind === 'network') return drop();
      if (failure.kind === 'server_error') {
        send(500, JSON.stringify({ error: { type: 'api_error', message: 'An unknown error occurred' } }), {
          'stripe-should-retry': 'true',
        });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, failure.delayMs ?? 1_000));
    }
    if (res.destroyed || req.socket.destroyed) {
      record.status = -1;
      return;
    }
    send(status, body);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'api_error', message: `stripe fake crashed: ${(error as Error).message}` } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  function sign(event: StripeObject, signOptions: { timestamp?: number; secret?: string } = {}): SignedWebhook {
    const body = JSON.stringify(event, null, 2);
    const signature = sdk.webhooks.generateTestHeaderString({
      payload: body,
      secret: signOptions.secret ?? webhookSecret,
      timestamp: signOptions.timestamp ?? nowSeconds(),
    });
    return { event, body, signature, headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature } };
  }

  const fake: StripeFake = {
    url,
    env: { STRIPE_SECRET_KEY: STRIPE_FAKE_SECRET_KEY, STRIPE_WEBHOOK_SECRET: webhookSecret, STRIPE_API_BASE_URL: url },
    webhookSecret,
    state,
    requests,
    events,
    callsFor: (key) => requests.filter((request) => request.idempotencyKey === key).length,
    executionsFor: (key) => requests.filter((request) => request.idempotencyKey === key && request.executed && !request.replayed).length,
    countFor: (method, path) =>
      requests.filter(
        (request) =>
          request.method === method.toUpperCase() && (typeof path === 'string' ? request.path === path : path.test(request.path)),
      ).length,
    declineNext(script = {}) {
      declines.push(script);
    },
    failCaptureNext(script = {}) {
      captureFailures.push(script);
    },
    failNext(count, rule) {
      failures.push({ ...rule, remaining: count });
    },
    expireAuthorization(paymentIntentId) {
      const intent = state.paymentIntents.get(paymentIntentId);
      if (!intent) throw new Error(`no such payment intent ${paymentIntentId}`);
      const charge = state.charges.get(intent.latest_charge);
      if (charge) charge.payment_method_details.card.capture_before = nowSeconds();
      lapseIfExpired(intent);
    },
    updateAccount(accountId, flags) {
      const account = state.accounts.get(accountId);
      if (!account) throw new Error(`no such account ${accountId}`);
      const previous: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(flags)) {
        previous[key] = account[key];
        account[key] = value;
      }
      account.capabilities = { transfers: account.payouts_enabled ? 'active' : 'inactive' };
      if (account.details_submitted && account.payouts_enabled) {
        account.requirements = { currently_due: [], disabled_reason: null, eventually_due: [], past_due: [], pending_verification: [] };
      }
      emit('account.updated', account, null, previous);
      return snapshot(account);
    },
    completeOnboarding(accountId) {
      return fake.updateAccount(accountId, { details_submitted: true, payouts_enabled: true, charges_enabled: true });
    },
    createDispute(chargeId, reason = 'fraudulent') {
      const charge = state.charges.get(chargeId);
      if (!charge) throw new Error(`no such charge ${chargeId}`);
      charge.disputed = true;
      const dispute: StripeObject = {
        id: newObjectId('dp'),
        object: 'dispute',
        amount: charge.amount_captured,
        charge: charge.id,
        created: nowSeconds(),
        currency: 'usd',
        evidence_details: { due_by: nowSeconds() + 7 * 86_400, has_evidence: false, past_due: false, submission_count: 0 },
        is_charge_refundable: false,
        livemode: false,
        metadata: {},
        payment_intent: charge.payment_intent,
        reason,
        status: 'needs_response',
      };
      emit('charge.dispute.created', dispute, null);
      return dispute;
    },
    signedEvent(type, object, eventOptions = {}) {
      const event: StripeObject = {
        id: eventOptions.id ?? newObjectId('evt'),
        object: 'event',
        api_version: Stripe.API_VERSION,
        created: eventOptions.timestamp ?? nowSeconds(),
        data: { object: snapshot(expandedForEvent(object)) },
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type,
      };
      return sign(event, eventOptions.timestamp === undefined ? {} : { timestamp: eventOptions.timestamp });
    },
    sign,
    eventsFor(objectId, types) {
      return events.filter((event) => event.data.object.id === objectId && (!types || types.includes(event.type)));
    },
    reset() {
      for (const map of Object.values(state)) map.clear();
      requests.length = 0;
      events.length = 0;
      idempotency.clear();
      cardOf.clear();
      declines = [];
      captureFailures = [];
      failures = [];
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
