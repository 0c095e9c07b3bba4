import { createHash } from 'node:crypto';
import { type DB, newId } from '@instainstru/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import { type Clock, systemClock } from '../../shared/clock.ts';
import {
  type AuthorizeInput,
  type AuthorizeResult,
  type CaptureResult,
  type CardDetails,
  type ConnectedAccountState,
  type PaymentIntentState,
  type PaymentProvider,
  PaymentProviderError,
  type SetupIntentState,
  type TransferInput,
} from '../provider.ts';

/**
 * How long an offline authorization can be captured: 7 days, the window Stripe gives most online
 * card payments. (The Stripe provider never assumes this: it reads the charge's `capture_before`,
 * which for Visa off-session is about 4 days 18 hours.) Captures after it fail with
 * `charge_expired_for_capture`, so the re-authorization path can be tested offline.
 */
export const OFFLINE_AUTHORIZATION_VALIDITY_MS = 7 * 24 * 3_600_000;

/** How long an offline onboarding link is said to be valid (Stripe account links last minutes). */
const ONBOARDING_LINK_VALIDITY_MS = 5 * 60_000;

/**
 * The offline test cards: use them as payment method ids, like Stripe's `pm_card_visa`. Saving one
 * makes a customer's own card whose id keeps the prefix (`pm_offline_visa_01J…`), so the scripted
 * behaviour follows the card. Anything after the name (`pm_offline_visa_bob`) makes a distinct card
 * (its own fingerprint) with the same behaviour — two students with "the same card" share a
 * fingerprint, which is what the referral fraud rule looks at.
 */
export const OFFLINE_TEST_CARDS = {
  /** Authorizes, captures, refunds. */
  visa: { brand: 'visa', last4: '4242', outcome: 'succeeds' },
  mastercard: { brand: 'mastercard', last4: '4444', outcome: 'succeeds' },
  /** Declined: `card_declined`. */
  declined: { brand: 'visa', last4: '0002', outcome: 'card_declined' },
  /** Declined: `insufficient_funds`. */
  insufficient_funds: { brand: 'visa', last4: '9995', outcome: 'insufficient_funds' },
  /** Needs the customer (3-D Secure): `authentication_required`, `requiresAction: true`. */
  requires_action: { brand: 'visa', last4: '3184', outcome: 'authentication_required' },
  /** Authorizes, but every capture is declined (the capture-failure path). */
  capture_fails: { brand: 'visa', last4: '0341', outcome: 'capture_fails' },
  /** Refused already when saving it (the SetupIntent fails with `card_declined`). */
  setup_declined: { brand: 'visa', last4: '0069', outcome: 'setup_declined' },
} as const;

export type OfflineTestCard = keyof typeof OFFLINE_TEST_CARDS;

/** `pm_offline_visa`, `pm_offline_visa_01J…` → 'visa'; anything else → null. */
export function offlineTestCardOf(paymentMethodId: string): OfflineTestCard | null {
  if (!paymentMethodId.startsWith('pm_offline_')) return null;
  const rest = paymentMethodId.slice('pm_offline_'.length);
  for (const card of Object.keys(OFFLINE_TEST_CARDS) as OfflineTestCard[]) {
    if (rest === card || rest.startsWith(`${card}_`)) return card;
  }
  return null;
}

type ObjectKind =
  'customer' | 'setup_intent' | 'payment_method' | 'payment_intent' | 'refund' | 'transfer' | 'transfer_reversal' | 'account';

interface StoredObject {
  id: string;
  kind: string;
  status: string;
  amountCents: number | null;
  amountCapturedCents: number;
  amountRefundedCents: number;
  idempotencyKey: string | null;
  parentId: string | null;
  data: Record<string, any>;
}

/** What is kept under an idempotency key: which request it answered, and the answer. */
interface KeyRecord {
  fingerprint: string;
  response: unknown;
}

function fingerprintOf(operation: string, params: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([operation, sortKeys(params)]))
    .digest('hex');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, item]) => item !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, item]) => [key, sortKeys(item)]),
    );
  }
  return value;
}

class KeyTaken extends Error {}

// `data` is read as text: Kysely's CamelCasePlugin would rewrite the keys of a jsonb value
// (metadata keys such as booking_id, idempotency keys inside `operations`).
const OBJECT_COLUMNS = [
  'id',
  'kind',
  'status',
  'amountCents',
  'amountCapturedCents',
  'amountRefundedCents',
  'idempotencyKey',
  'parentId',
  sql<string>`data::text`.as('dataText'),
] as const;

function withData<T extends { dataText: string }>(row: T | undefined): StoredObject | undefined {
  if (!row) return undefined;
  const { dataText, ...rest } = row;
  return { ...(rest as unknown as Omit<StoredObject, 'data'>), data: JSON.parse(dataText) as Record<string, any> };
}

function invalidRequest(message: string, code: string): PaymentProviderError {
  return new PaymentProviderError(message, { retryable: false, code, statusCode: 400 });
}

function idempotencyError(key: string): PaymentProviderError {
  return new PaymentProviderError(
    `Keys for idempotent requests can only be used with the same parameters they were first used with (key ${key}).`,
    { retryable: false, code: 'idempotency_error', statusCode: 400 },
  );
}

function checkKey(key: string): void {
  if (!key || key.length > 255) throw invalidRequest('An idempotency key must have 1 to 255 characters.', 'idempotency_key_invalid');
}

function checkAmount(amountCents: number, field = 'amount'): void {
  if (!Number.isInteger(amountCents) || amountCents < 1)
    throw invalidRequest(`${field} must be a positive integer number of cents.`, 'parameter_invalid_integer');
  if (amountCents > 99_999_999) throw invalidRequest(`${field} must be at most 99999999.`, 'amount_too_large');
}

function reviveDates<T>(value: T): T {
  // Answers are replayed from JSON; the provider's types carry Date objects for instants.
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of ['captureBefore', 'expiresAt']) {
      if (typeof record[key] === 'string') record[key] = new Date(record[key] as string);
    }
  }
  return value;
}

/**
 * The embedded payment provider: records customers, cards, authorizations, captures, refunds,
 * transfers and connected accounts in `offline_payment_objects` as Stripe would hold them, and
 * moves no money. It is labelled `offline: true` wherever payment state shows.
 *
 * It honours idempotency keys as Stripe does: the same key with the same parameters returns the
 * first answer (also after a crash of the caller), the same key with other parameters is refused
 * with a non-retryable `idempotency_error`. Payment method ids of the `OFFLINE_TEST_CARDS` script
 * declines, 3-D Secure and capture failures; an authorization can be captured for
 * `OFFLINE_AUTHORIZATION_VALIDITY_MS` (7 days) after it was made, measured on `clock`.
 *
 * Each call runs its own short transaction on `db`, as a call to an outside system would; do not
 * call it while holding a transaction on the embedded PGlite (one session: the call would wait).
 */
export function createOfflinePaymentProvider(db: Kysely<DB>, options: { clock?: Clock } = {}): PaymentProvider {
  const clock = options.clock ?? systemClock;

  async function findObject(
    trx: Transaction<DB> | Kysely<DB>,
    id: string,
    kind: ObjectKind,
    lock = false,
  ): Promise<StoredObject | undefined> {
    let query = trx.selectFrom('offlinePaymentObjects').select(OBJECT_COLUMNS).where('id', '=', id).where('kind', '=', kind);
    if (lock) query = query.forUpdate();
    return withData(await query.executeTakeFirst());
  }

  async function getObject(trx: Transaction<DB> | Kysely<DB>, id: string, kind: ObjectKind, lock = false): Promise<StoredObject> {
    const found = await findObject(trx, id, kind, lock);
    if (!found) throw invalidRequest(`No such ${kind.replace('_', ' ')}: '${id}'`, 'resource_missing');
    return found;
  }

  /** The answer already given under this key, wherever it was recorded (a created object or an operation on an intent). */
  async function findKeyRecord(trx: Transaction<DB>, key: string): Promise<KeyRecord | undefined> {
    const created = await trx
      .selectFrom('offlinePaymentObjects')
      .select(sql<string | null>`(data -> 'idempotency')::text`.as('record'))
      .where('idempotencyKey', '=', key)
      .executeTakeFirst();
    if (created) return created.record === null ? undefined : (JSON.parse(created.record) as KeyRecord);
    const operation = await sql<{ record: string }>`
      select (data -> 'operations' -> ${key}::text)::text as record from offline_payment_objects
      where kind in ('payment_intent', 'setup_intent') and data -> 'operations' ? ${key}::text limit 1
    `.execute(trx);
    const record = operation.rows[0]?.record;
    return record ? (JSON.parse(record) as KeyRecord) : undefined;
  }

  function replay<T>(record: KeyRecord | undefined, key: string, fingerprint: string): T | undefined {
    if (!record) return undefined;
    if (record.fingerprint !== fingerprint) throw idempotencyError(key);
    return reviveDates(structuredClone(record.response) as T);
  }

  /**
   * Runs a call that creates one object under `key`: replays the recorded answer, or builds the
   * object and stores it with the answer. `before` runs first in the transaction (row locks on a
   * parent object, so concurrent calls with one key queue up instead of racing).
   */
  async function createOnce<T>(
    key: string,
    operation: string,
    params: unknown,
    build: (
      trx: Transaction<DB>,
      now: Date,
    ) => Promise<{
      object: Omit<StoredObject, 'idempotencyKey' | 'amountCapturedCents' | 'amountRefundedCents'> & Partial<StoredObject>;
      response: T;
    }>,
    before?: (trx: Transaction<DB>) => Promise<void>,
  ): Promise<T> {
    checkKey(key);
    const fingerprint = fingerprintOf(operation, params);
    const run = () =>
      db.transaction().execute(async (trx) => {
        if (before) await before(trx);
        const seen = replay<T>(await findKeyRecord(trx, key), key, fingerprint);
        if (seen !== undefined) return seen;
        const now = clock.now();
        const { object, response } = await build(trx, now);
        const inserted = await trx
          .insertInto('offlinePaymentObjects')
          .values({
            id: object.id,
            kind: object.kind,
            status: object.status,
            amountCents: object.amountCents,
            amountCapturedCents: object.amountCapturedCents ?? 0,
            amountRefundedCents: object.amountRefundedCents ?? 0,
            idempotencyKey: key,
            parentId: object.parentId,
            data: JSON.stringify({ ...object.data, idempotency: { fingerprint, response } }),
            createdAt: now,
            updatedAt: now,
          })
          .onConflict((conflict) => conflict.column('idempotencyKey').doNothing())
          .returning('id')
          .executeTakeFirst();
        // Another call with this key committed first (the insert waited for it): undo this one's
        // changes and answer as the first did.
        if (!inserted) throw new KeyTaken();
        return response;
      });
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof KeyTaken)) throw error;
      return run();
    }
  }

  /**
   * Runs a call that changes an intent under `key`: the intent's row lock serialises calls, the
   * answer is recorded on the intent (`data.operations[key]`) and replayed for the same key.
   */
  async function changeIntentOnce<T>(
    key: string,
    operation: string,
    intentId: string,
    params: unknown,
    apply: (trx: Transaction<DB>, intent: StoredObject, now: Date) => Promise<T>,
    kind: 'payment_intent' | 'setup_intent' = 'payment_intent',
  ): Promise<T> {
    checkKey(key);
    const fingerprint = fingerprintOf(operation, { intentId, ...(params as object) });
    return db.transaction().execute(async (trx) => {
      const intent = await getObject(trx, intentId, kind, true);
      const seen = replay<T>(await findKeyRecord(trx, key), key, fingerprint);
      if (seen !== undefined) return seen;
      const response = await apply(trx, intent, clock.now());
      await sql`
        update offline_payment_objects
        set data = jsonb_set(data, '{operations}', coalesce(data -> 'operations', '{}'::jsonb) || jsonb_build_object(${key}::text, ${JSON.stringify({ fingerprint, response })}::jsonb)),
            updated_at = ${clock.now()}
        where id = ${intentId}
      `.execute(trx);
      return response;
    });
  }

  async function updateObject(
    trx: Transaction<DB>,
    id: string,
    changes: Partial<Pick<StoredObject, 'status' | 'amountCapturedCents' | 'amountRefundedCents'>>,
    data: Record<string, unknown> = {},
  ): Promise<void> {
    await sql`
      update offline_payment_objects
      set status = coalesce(${changes.status ?? null}, status),
          amount_captured_cents = coalesce(${changes.amountCapturedCents ?? null}::integer, amount_captured_cents),
          amount_refunded_cents = coalesce(${changes.amountRefundedCents ?? null}::integer, amount_refunded_cents),
          data = data || ${JSON.stringify(data)}::jsonb,
          updated_at = ${clock.now()}
      where id = ${id}
    `.execute(trx);
  }

  function cardFor(paymentMethodId: string, stored: StoredObject | undefined): CardDetails | undefined {
    if (stored) {
      const data = stored.data as {
        customerId?: string | null;
        brand: string;
        last4: string;
        expMonth: number;
        expYear: number;
        fingerprint: string;
      };
      return {
        paymentMethodId: stored.id,
        customerId: data.customerId ?? null,
        brand: data.brand,
        last4: data.last4,
        expMonth: data.expMonth,
        expYear: data.expYear,
        fingerprint: data.fingerprint,
      };
    }
    const card = offlineTestCardOf(paymentMethodId);
    if (!card) return undefined;
    const details = OFFLINE_TEST_CARDS[card];
    return {
      paymentMethodId,
      customerId: null,
      brand: details.brand,
      last4: details.last4,
      expMonth: 12,
      expYear: clock.now().getUTCFullYear() + 5,
      // The test-card id (without a saved card's own suffix) names the physical card.
      fingerprint: `fp_offline_${createHash('sha256').update(paymentMethodId).digest('hex').slice(0, 16)}`,
    };
  }

  async function createIntent(input: AuthorizeInput, key: string, captureMethod: 'manual' | 'automatic'): Promise<AuthorizeResult> {
    checkAmount(input.amountCents);
    return createOnce<AuthorizeResult>(key, `payment_intent:${captureMethod}`, input, async (trx, now) => {
      const paymentIntentId = `pi_offline_${newId()}`;
      const stored = await findObject(trx, input.paymentMethodId, 'payment_method');
      const card = offlineTestCardOf(input.paymentMethodId);
      const common = {
        id: paymentIntentId,
        kind: 'payment_intent' as const,
        amountCents: input.amountCents,
        parentId: input.customerId,
      };
      const baseData = {
        captureMethod,
        customerId: input.customerId,
        paymentMethodId: input.paymentMethodId,
        description: input.description,
        metadata: input.metadata,
        transferGroup: input.transferGroup ?? null,
      };
      const fail = (code: string, message: string, requiresAction: boolean) => ({
        object: { ...common, status: 'requires_payment_method', data: { ...baseData, lastErrorCode: code, lastErrorMessage: message } },
        response: { status: 'failed' as const, paymentIntentId, code, message, requiresAction },
      });
      if (!card || stored?.status === 'detached') {
        return fail(
          'payment_method_unavailable',
          `The payment method ${input.paymentMethodId} cannot be used (unknown or removed).`,
          false,
        );
      }
      const outcome = OFFLINE_TEST_CARDS[card].outcome;
      if (outcome === 'card_declined' || outcome === 'setup_declined') return fail('card_declined', 'Your card was declined.', false);
      if (outcome === 'insufficient_funds') return fail('insufficient_funds', 'Your card has insufficient funds.', false);
      if (outcome === 'authentication_required') {
        return fail('authentication_required', 'This payment needs the cardholder to authenticate (3-D Secure).', true);
      }
      const chargeId = `ch_offline_${newId()}`;
      if (captureMethod === 'automatic') {
        return {
          object: {
            ...common,
            status: 'succeeded',
            amountCapturedCents: input.amountCents,
            data: { ...baseData, chargeId, capturedAt: now.toISOString() },
          },
          response: { status: 'captured' as const, paymentIntentId, chargeId, amountCents: input.amountCents, captureBefore: null },
        };
      }
      const captureBefore = new Date(now.getTime() + OFFLINE_AUTHORIZATION_VALIDITY_MS);
      return {
        object: { ...common, status: 'requires_capture', data: { ...baseData, chargeId, captureBefore: captureBefore.toISOString() } },
        response: { status: 'authorized' as const, paymentIntentId, chargeId, amountCents: input.amountCents, captureBefore },
      };
    });
  }

  return {
    name: 'offline',
    offline: true,

    async createCustomer(input, key) {
      return createOnce(key, 'customer', input, async () => {
        const customerId = `cus_offline_${newId()}`;
        return {
          object: {
            id: customerId,
            kind: 'customer',
            status: 'active',
            amountCents: null,
            parentId: null,
            data: { userId: input.userId, email: input.email, name: input.name },
          },
          response: { customerId },
        };
      });
    },

    async createSetupIntent(input, key) {
      return createOnce(key, 'setup_intent', input, async () => {
        const setupIntentId = `seti_offline_${newId()}`;
        const clientSecret = `${setupIntentId}_secret_${newId().toLowerCase()}`;
        return {
          object: {
            id: setupIntentId,
            kind: 'setup_intent',
            status: 'requires_payment_method',
            amountCents: null,
            parentId: input.customerId,
            data: { customerId: input.customerId, userId: input.userId, usage: 'off_session', paymentMethodId: null, lastErrorCode: null },
          },
          response: { setupIntentId, clientSecret, status: 'requires_payment_method' },
        };
      });
    },

    async retrieveSetupIntent(setupIntentId) {
      const intent = await getObject(db, setupIntentId, 'setup_intent');
      return {
        setupIntentId,
        status: intent.status,
        customerId: (intent.data.customerId as string | null) ?? null,
        paymentMethodId: (intent.data.paymentMethodId as string | null) ?? null,
        lastErrorCode: (intent.data.lastErrorCode as string | null) ?? null,
      };
    },

    async confirmSetupIntent(input, key) {
      return changeIntentOnce<SetupIntentState>(
        key,
        'setup_intent_confirm',
        input.setupIntentId,
        { paymentMethodId: input.paymentMethodId },
        async (trx, intent, now) => {
          const customerId = (intent.data.customerId as string | null) ?? null;
          if (intent.status === 'succeeded' || intent.status === 'canceled') {
            throw invalidRequest(`This SetupIntent is ${intent.status} and cannot be confirmed again.`, 'setup_intent_unexpected_state');
          }
          const card = offlineTestCardOf(input.paymentMethodId);
          if (!card)
            throw invalidRequest(
              `No such PaymentMethod: '${input.paymentMethodId}' (offline test cards: pm_offline_visa, …).`,
              'resource_missing',
            );
          const answer = (status: string, paymentMethodId: string | null, lastErrorCode: string | null): SetupIntentState => ({
            setupIntentId: intent.id,
            status,
            customerId,
            paymentMethodId,
            lastErrorCode,
          });
          // Like Stripe's "attach succeeds, charges fail" test cards, the declining cards save
          // fine and decline when charged off-session, so payment failures can be tested with a
          // saved card; only setup_declined is refused here.
          if (OFFLINE_TEST_CARDS[card].outcome === 'setup_declined') {
            await updateObject(trx, intent.id, { status: 'requires_payment_method' }, { lastErrorCode: 'card_declined' });
            return answer('requires_payment_method', null, 'card_declined');
          }
          const details = cardFor(input.paymentMethodId, undefined)!;
          const paymentMethodId = `${input.paymentMethodId}_${newId()}`;
          await trx
            .insertInto('offlinePaymentObjects')
            .values({
              id: paymentMethodId,
              kind: 'payment_method',
              status: 'attached',
              parentId: customerId,
              data: JSON.stringify({ ...details, paymentMethodId, customerId, testCard: card, setupIntentId: intent.id }),
              createdAt: now,
              updatedAt: now,
            })
            .execute();
          await updateObject(
            trx,
            intent.id,
            { status: 'succeeded' },
            { paymentMethodId, lastErrorCode: null, succeededAt: now.toISOString() },
          );
          return answer('succeeded', paymentMethodId, null);
        },
        'setup_intent',
      );
    },

    async retrievePaymentMethod(paymentMethodId) {
      const stored = await findObject(db, paymentMethodId, 'payment_method');
      const card = cardFor(paymentMethodId, stored);
      if (!card) throw invalidRequest(`No such PaymentMethod: '${paymentMethodId}'`, 'resource_missing');
      return card;
    },

    async detachPaymentMethod(paymentMethodId) {
      await db.transaction().execute(async (trx) => {
        const stored = await findObject(trx, paymentMethodId, 'payment_method', true);
        if (!stored) {
          if (offlineTestCardOf(paymentMethodId)) return;
          throw invalidRequest(`No such PaymentMethod: '${paymentMethodId}'`, 'resource_missing');
        }
        await updateObject(trx, paymentMethodId, { status: 'detached' }, { customerId: null, detachedAt: clock.now().toISOString() });
      });
    },

    authorize(input, key) {
      return createIntent(input, key, 'manual');
    },

    charge(input, key) {
      return createIntent(input, key, 'automatic');
    },

    async capture(input, key) {
      checkAmount(input.amountCents, 'amount_to_capture');
      return changeIntentOnce<CaptureResult>(
        key,
        'capture',
        input.paymentIntentId,
        { amountCents: input.amountCents },
        async (trx, intent, now) => {
          const failed = (code: string, message: string, authorizationLost: boolean): CaptureResult => ({
            status: 'failed',
            paymentIntentId: intent.id,
            code,
            message,
            authorizationLost,
          });
          if (intent.status === 'canceled') return failed('payment_intent_unexpected_state', 'The authorization was canceled.', true);
          if (intent.status !== 'requires_capture') {
            throw invalidRequest(
              `This PaymentIntent could not be captured because it has a status of ${intent.status}.`,
              'payment_intent_unexpected_state',
            );
          }
          if (input.amountCents > (intent.amountCents ?? 0)) {
            throw invalidRequest('The amount to capture is greater than the amount authorized.', 'amount_too_large');
          }
          const captureBefore = new Date(intent.data.captureBefore as string);
          if (now.getTime() >= captureBefore.getTime()) {
            // Stripe cancels an intent whose authorization lapsed.
            await updateObject(trx, intent.id, { status: 'canceled' }, { cancellationReason: 'expired', canceledAt: now.toISOString() });
            return failed('charge_expired_for_capture', 'The authorization expired before it was captured.', true);
          }
          if (offlineTestCardOf(intent.data.paymentMethodId as string) === 'capture_fails') {
            return failed('card_declined', 'The capture was declined (offline test card pm_offline_capture_fails).', false);
          }
          await updateObject(
            trx,
            intent.id,
            { status: 'succeeded', amountCapturedCents: input.amountCents },
            { capturedAt: now.toISOString() },
          );
          return {
            status: 'captured',
            paymentIntentId: intent.id,
            chargeId: (intent.data.chargeId as string | null) ?? null,
            capturedCents: input.amountCents,
          };
        },
      );
    },

    async cancelAuthorization(input, key) {
      return changeIntentOnce<{ status: 'canceled' }>(
        key,
        'cancel',
        input.paymentIntentId,
        { reason: input.reason },
        async (trx, intent, now) => {
          if (intent.status === 'canceled') return { status: 'canceled' };
          if (intent.status === 'succeeded') {
            throw invalidRequest(
              'This PaymentIntent could not be canceled because it has a status of succeeded.',
              'payment_intent_unexpected_state',
            );
          }
          await updateObject(
            trx,
            intent.id,
            { status: 'canceled' },
            { cancellationReason: input.reason ?? 'requested_by_customer', canceledAt: now.toISOString() },
          );
          return { status: 'canceled' };
        },
      );
    },

    async refund(input, key) {
      checkAmount(input.amountCents);
      return createOnce(
        key,
        'refund',
        input,
        async (trx, now) => {
          const intent = await getObject(trx, input.paymentIntentId, 'payment_intent', true);
          if (intent.status !== 'succeeded') {
            throw invalidRequest(
              `This PaymentIntent has a status of ${intent.status}; only captured payments can be refunded.`,
              'charge_not_captured',
            );
          }
          const refundable = intent.amountCapturedCents - intent.amountRefundedCents;
          if (refundable <= 0) throw invalidRequest('This charge has already been refunded.', 'charge_already_refunded');
          if (input.amountCents > refundable) {
            throw invalidRequest(
              `Refund amount (${input.amountCents}) is greater than the unrefunded amount (${refundable}).`,
              'amount_too_large',
            );
          }
          await updateObject(trx, intent.id, { amountRefundedCents: intent.amountRefundedCents + input.amountCents });
          const refundId = `re_offline_${newId()}`;
          return {
            object: {
              id: refundId,
              kind: 'refund',
              status: 'succeeded',
              amountCents: input.amountCents,
              parentId: intent.id,
              data: {
                reason: input.reason ?? null,
                metadata: input.metadata ?? {},
                chargeId: intent.data.chargeId ?? null,
                refundedAt: now.toISOString(),
              },
            },
            response: { refundId, status: 'succeeded' as const },
          };
        },
        async (trx) => {
          await getObject(trx, input.paymentIntentId, 'payment_intent', true);
        },
      );
    },

    async transfer(input: TransferInput, key) {
      checkAmount(input.amountCents);
      if (!input.destinationAccountId.startsWith('acct_'))
        throw invalidRequest(`No such destination: '${input.destinationAccountId}'`, 'resource_missing');
      return createOnce(
        key,
        'transfer',
        input,
        async (_trx, now) => {
          const transferId = `tr_offline_${newId()}`;
          return {
            object: {
              id: transferId,
              kind: 'transfer',
              status: 'paid',
              amountCents: input.amountCents,
              parentId: input.destinationAccountId,
              data: {
                destination: input.destinationAccountId,
                transferGroup: input.transferGroup ?? null,
                sourceTransaction: input.sourceChargeId ?? null,
                description: input.description,
                metadata: input.metadata,
                createdAt: now.toISOString(),
              },
            },
            response: { transferId },
          };
        },
        async (trx) => {
          if (!input.sourceChargeId) return;
          // A transfer from a charge's funds cannot outrun the capture (Stripe's source_transaction).
          const source = await trx
            .selectFrom('offlinePaymentObjects')
            .select(OBJECT_COLUMNS)
            .where('kind', '=', 'payment_intent')
            .where(sql<boolean>`data ->> 'chargeId' = ${input.sourceChargeId}`)
            .forUpdate()
            .executeTakeFirst();
          if (!source) throw invalidRequest(`No such charge: '${input.sourceChargeId}'`, 'resource_missing');
          if (source.status !== 'succeeded') throw invalidRequest('The source transaction has not been captured.', 'charge_not_captured');
          if (input.amountCents > source.amountCapturedCents) {
            throw invalidRequest('The transfer amount exceeds the source transaction.', 'amount_too_large');
          }
        },
      );
    },

    async reverseTransfer(input, key) {
      checkAmount(input.amountCents);
      return createOnce(
        key,
        'transfer_reversal',
        input,
        async (trx, now) => {
          const transfer = await getObject(trx, input.transferId, 'transfer', true);
          const reversible = (transfer.amountCents ?? 0) - transfer.amountRefundedCents;
          if (input.amountCents > reversible)
            throw invalidRequest('The reversal exceeds the unreversed transfer amount.', 'amount_too_large');
          await updateObject(trx, transfer.id, { amountRefundedCents: transfer.amountRefundedCents + input.amountCents });
          const reversalId = `trr_offline_${newId()}`;
          return {
            object: {
              id: reversalId,
              kind: 'transfer_reversal',
              status: 'succeeded',
              amountCents: input.amountCents,
              parentId: transfer.id,
              data: { createdAt: now.toISOString() },
            },
            response: { reversalId },
          };
        },
        async (trx) => {
          await getObject(trx, input.transferId, 'transfer', true);
        },
      );
    },

    async createConnectedAccount(input, key) {
      return createOnce(key, 'account', input, async () => {
        const accountId = `acct_offline_${newId()}`;
        // Nobody can be onboarded offline: the account is ready at once, so payouts can be recorded.
        return {
          object: {
            id: accountId,
            kind: 'account',
            status: 'enabled',
            amountCents: null,
            parentId: null,
            data: {
              type: 'express',
              userId: input.userId,
              email: input.email,
              payoutsEnabled: true,
              chargesEnabled: true,
              detailsSubmitted: true,
            },
          },
          response: { accountId },
        };
      });
    },

    async createOnboardingLink(input) {
      await getObject(db, input.accountId, 'account');
      const url = new URL(input.returnUrl);
      url.searchParams.set('offline_onboarding', 'complete');
      url.searchParams.set('account', input.accountId);
      return { url: url.toString(), expiresAt: new Date(clock.now().getTime() + ONBOARDING_LINK_VALIDITY_MS) };
    },

    async retrieveAccount(accountId): Promise<ConnectedAccountState> {
      const account = await getObject(db, accountId, 'account');
      return {
        accountId,
        payoutsEnabled: account.data.payoutsEnabled === true,
        chargesEnabled: account.data.chargesEnabled === true,
        detailsSubmitted: account.data.detailsSubmitted === true,
      };
    },

    async retrievePaymentIntent(paymentIntentId): Promise<PaymentIntentState> {
      const intent = await getObject(db, paymentIntentId, 'payment_intent');
      const status = intent.status;
      const captureBefore = typeof intent.data.captureBefore === 'string' ? new Date(intent.data.captureBefore) : null;
      return {
        paymentIntentId,
        status,
        amountCents: intent.amountCents ?? 0,
        amountCapturableCents: status === 'requires_capture' ? (intent.amountCents ?? 0) : 0,
        amountReceivedCents: intent.amountCapturedCents,
        amountRefundedCents: intent.amountRefundedCents,
        chargeId: status === 'requires_payment_method' ? null : ((intent.data.chargeId as string | null) ?? null),
        captureBefore: status === 'requires_capture' ? captureBefore : null,
        metadata: (intent.data.metadata as Record<string, string>) ?? {},
        lastErrorCode: (intent.data.lastErrorCode as string | null) ?? null,
      };
    },
  };
}
