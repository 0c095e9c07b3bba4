import { createHash } from 'node:crypto';
import { type DB, newId } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { type AuditContext, recordAudit, SYSTEM_CONTEXT } from '../../audit/record-audit.ts';
import { requireUser } from '../../auth/principal.ts';
import type { Clock } from '../../shared/clock.ts';
import { AppError, notFound } from '../../shared/errors.ts';
import { idempotencyKey } from '../idempotency-keys.ts';
import type { CardDetails, PaymentProvider } from '../provider.ts';
import { OFFLINE_TEST_CARDS } from '../providers/offline-provider.ts';
import { askProvider } from '../providers/provider-errors.ts';
import { callProviderRecorded } from '../providers/record-operation.ts';

export interface PaymentMethodsDeps {
  payments: PaymentProvider;
  clock: Clock;
}

/** A saved card as the student sees it: never more than brand, last 4 and expiry. */
export interface SavedCard {
  id: string;
  brand: string;
  last4: string;
  expMonth: number | null;
  expYear: number | null;
  isDefault: boolean;
  createdAt: string;
  provider: 'stripe' | 'offline';
}

type CardRow = {
  id: string;
  brand: string;
  last4: string;
  expMonth: number | null;
  expYear: number | null;
  isDefault: boolean;
  createdAt: Date;
  provider: string;
};

function toSavedCard(row: CardRow): SavedCard {
  return {
    id: row.id,
    brand: row.brand,
    last4: row.last4,
    expMonth: row.expMonth,
    expYear: row.expYear,
    isDefault: row.isDefault,
    createdAt: row.createdAt.toISOString(),
    provider: row.provider as 'stripe' | 'offline',
  };
}

const CARD_COLUMNS = ['id', 'brand', 'last4', 'expMonth', 'expYear', 'isDefault', 'createdAt', 'provider'] as const;

/** The caller's saved cards (not removed), the default first, then newest first. */
export async function listPaymentMethods(db: Kysely<DB>, userId: string): Promise<SavedCard[]> {
  const rows = await db
    .selectFrom('paymentMethods')
    .select(CARD_COLUMNS)
    .where('userId', '=', userId)
    .where('detachedAt', 'is', null)
    .orderBy('isDefault', 'desc')
    .orderBy('createdAt', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toSavedCard);
}

/**
 * The student's customer at the current provider, created on first use (one per user; the key
 * `customer:{userId}:1` makes a retried creation return the same customer).
 */
export async function ensurePaymentCustomer(db: Kysely<DB>, userId: string, deps: PaymentMethodsDeps): Promise<string> {
  const existing = await db
    .selectFrom('paymentCustomers')
    .select(['customerId', 'provider'])
    .where('userId', '=', userId)
    .executeTakeFirst();
  if (existing && existing.provider === deps.payments.name) return existing.customerId;
  const user = await db.selectFrom('users').select(['email', 'firstName', 'lastName']).where('id', '=', userId).executeTakeFirst();
  if (!user) throw notFound('The user');
  const key = idempotencyKey('customer', `${deps.payments.name}:${userId}`);
  const { customerId } = await askProvider(() =>
    callProviderRecorded(
      db,
      { provider: deps.payments.name, purpose: 'customer', idempotencyKey: key, userId, request: { userId } },
      () => deps.payments.createCustomer({ userId, email: user.email, name: `${user.firstName} ${user.lastName}`.trim() }, key),
      (result) => ({ status: 'succeeded', providerObjectId: result.customerId }),
      () => deps.clock.now(),
    ),
  );
  // A switch of provider (offline → Stripe) gives the student a new customer there.
  await db
    .insertInto('paymentCustomers')
    .values({ userId, provider: deps.payments.name, customerId })
    .onConflict((conflict) => conflict.column('userId').doUpdateSet({ provider: deps.payments.name, customerId }))
    .execute();
  return customerId;
}

async function cardAttempt(db: Kysely<DB>, userId: string): Promise<number> {
  // A new SetupIntent after each saved card; until then the same one is handed out again.
  const { n } = await db
    .selectFrom('paymentMethods')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('userId', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(n) + 1;
}

export interface CardSetup {
  setupIntentId: string;
  clientSecret: string;
  status: string;
  provider: 'stripe' | 'offline';
  offline: boolean;
  /** Offline only: the test cards that can be saved with `POST /payments/methods {paymentMethodId}`. */
  testCards: string[];
}

/** A SetupIntent the client confirms (Stripe.js) to save a card for off-session payments. */
export async function createCardSetupIntent(db: Kysely<DB>, caller: AuditContext, deps: PaymentMethodsDeps): Promise<CardSetup> {
  const { userId } = requireUser(caller.principal);
  const customerId = await ensurePaymentCustomer(db, userId, deps);
  const attempt = await cardAttempt(db, userId);
  const key = idempotencyKey('setup-intent', `${deps.payments.name}:${userId}`, attempt);
  const setup = await askProvider(() =>
    callProviderRecorded(
      db,
      { provider: deps.payments.name, purpose: 'setup-intent', idempotencyKey: key, attempt, userId, request: { customerId } },
      () => deps.payments.createSetupIntent({ customerId, userId }, key),
      (result) => ({
        status: 'succeeded',
        providerObjectId: result.setupIntentId,
        response: { setupIntentId: result.setupIntentId, status: result.status },
      }),
      () => deps.clock.now(),
    ),
  );
  await recordAudit(db, caller, {
    action: 'payment_method.setup_intent',
    resourceType: 'payment_customer',
    resourceId: userId,
    after: { setupIntentId: setup.setupIntentId, provider: deps.payments.name },
  });
  return {
    setupIntentId: setup.setupIntentId,
    clientSecret: setup.clientSecret,
    status: setup.status,
    provider: deps.payments.name,
    offline: deps.payments.offline,
    testCards: deps.payments.offline ? Object.keys(OFFLINE_TEST_CARDS).map((card) => `pm_offline_${card}`) : [],
  };
}

/**
 * Saves a card after the SetupIntent succeeded (`setupIntentId`), or confirms one server-side with
 * a payment method the client already holds (`paymentMethodId`: a Stripe.js card, or an offline
 * test card). The first card becomes the default. Saving the same card again answers the same card.
 */
export async function savePaymentMethod(
  db: Kysely<DB>,
  caller: AuditContext,
  input: { setupIntentId?: string | undefined; paymentMethodId?: string | undefined },
  deps: PaymentMethodsDeps,
): Promise<SavedCard> {
  const { userId } = requireUser(caller.principal);
  const customerId = await ensurePaymentCustomer(db, userId, deps);
  let paymentMethodId: string;
  if (input.setupIntentId) {
    const setup = await askProvider(() => deps.payments.retrieveSetupIntent(input.setupIntentId!), 'setupIntentId');
    if (setup.customerId !== customerId) throw notFound('The setup intent', 'setupIntentId');
    if (setup.status !== 'succeeded' || !setup.paymentMethodId) {
      throw new AppError('conflict', `The setup intent is ${setup.status}; confirm it with the card first.`, 'setupIntentId');
    }
    paymentMethodId = setup.paymentMethodId;
  } else if (input.paymentMethodId) {
    paymentMethodId = await confirmWithPaymentMethod(db, userId, customerId, input.paymentMethodId, deps);
  } else {
    throw new AppError('validation_error', 'Send setupIntentId or paymentMethodId.', 'setupIntentId');
  }
  const card = await askProvider(() => deps.payments.retrievePaymentMethod(paymentMethodId), 'paymentMethodId');
  return storeCard(db, caller, userId, card, deps);
}

async function confirmWithPaymentMethod(
  db: Kysely<DB>,
  userId: string,
  customerId: string,
  clientPaymentMethodId: string,
  deps: PaymentMethodsDeps,
): Promise<string> {
  // Its own SetupIntent per (student, card count, card): a double click confirms once and answers
  // twice; a card removed and added again gets a new intent.
  const attempt = await cardAttempt(db, userId);
  const cardHash = createHash('sha256').update(clientPaymentMethodId).digest('hex').slice(0, 24);
  const setupKey = idempotencyKey('setup-intent', `${deps.payments.name}:${userId}:${cardHash}`, attempt);
  const setup = await askProvider(() =>
    callProviderRecorded(
      db,
      { provider: deps.payments.name, purpose: 'setup-intent', idempotencyKey: setupKey, attempt, userId, request: { customerId } },
      () => deps.payments.createSetupIntent({ customerId, userId }, setupKey),
      (result) => ({
        status: 'succeeded',
        providerObjectId: result.setupIntentId,
        response: { setupIntentId: result.setupIntentId, status: result.status },
      }),
      () => deps.clock.now(),
    ),
  );
  const confirmKey = idempotencyKey('setup-intent-confirm', setup.setupIntentId);
  const confirmed = await askProvider(
    () =>
      callProviderRecorded(
        db,
        {
          provider: deps.payments.name,
          purpose: 'setup-intent-confirm',
          idempotencyKey: confirmKey,
          userId,
          request: { setupIntentId: setup.setupIntentId },
        },
        () => deps.payments.confirmSetupIntent({ setupIntentId: setup.setupIntentId, paymentMethodId: clientPaymentMethodId }, confirmKey),
        (result) => ({
          status: result.status === 'succeeded' ? 'succeeded' : 'failed',
          providerObjectId: result.paymentMethodId ?? result.setupIntentId,
          errorCode: result.lastErrorCode,
        }),
        () => deps.clock.now(),
      ),
    'paymentMethodId',
  );
  if (confirmed.status === 'requires_action') {
    throw new AppError(
      'card_declined',
      'This card needs its holder to authenticate (3-D Secure): add it through the setup intent in the browser.',
      'paymentMethodId',
    );
  }
  if (confirmed.status !== 'succeeded' || !confirmed.paymentMethodId) {
    throw new AppError(
      'card_declined',
      `The card was declined (${confirmed.lastErrorCode ?? 'declined'}); try another card.`,
      'paymentMethodId',
    );
  }
  return confirmed.paymentMethodId;
}

async function storeCard(
  db: Kysely<DB>,
  caller: AuditContext,
  userId: string,
  card: CardDetails,
  deps: PaymentMethodsDeps,
): Promise<SavedCard> {
  return db.transaction().execute(async (trx) => {
    // Serialises a student's card changes, so "first card becomes the default" holds under concurrency.
    await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().executeTakeFirstOrThrow();
    const existing = await trx
      .selectFrom('paymentMethods')
      .select([...CARD_COLUMNS, 'userId', 'detachedAt'])
      .where('providerPaymentMethodId', '=', card.paymentMethodId)
      .executeTakeFirst();
    if (existing) {
      if (existing.userId !== userId) throw new AppError('conflict', 'This card is saved on another account.', 'paymentMethodId');
      if (!existing.detachedAt) return toSavedCard(existing);
      throw new AppError('conflict', 'This card was removed; add it again as a new card.', 'paymentMethodId');
    }
    const hasDefault = await trx
      .selectFrom('paymentMethods')
      .select('id')
      .where('userId', '=', userId)
      .where('isDefault', '=', true)
      .where('detachedAt', 'is', null)
      .executeTakeFirst();
    const row = await trx
      .insertInto('paymentMethods')
      .values({
        id: newId(),
        userId,
        provider: deps.payments.name,
        providerPaymentMethodId: card.paymentMethodId,
        brand: card.brand,
        last4: /^\d{4}$/.test(card.last4) ? card.last4 : '0000',
        expMonth: card.expMonth,
        expYear: card.expYear,
        cardFingerprint: card.fingerprint,
        isDefault: !hasDefault,
        createdAt: deps.clock.now(),
      })
      .returning(CARD_COLUMNS)
      .executeTakeFirstOrThrow();
    const saved = toSavedCard(row);
    await recordAudit(trx, caller, {
      action: 'payment_method.add',
      resourceType: 'payment_method',
      resourceId: saved.id,
      after: { brand: saved.brand, last4: saved.last4, isDefault: saved.isDefault, provider: saved.provider },
    });
    return saved;
  });
}

async function ownCard(db: Kysely<DB>, userId: string, id: string) {
  const row = await db
    .selectFrom('paymentMethods')
    .select([...CARD_COLUMNS, 'providerPaymentMethodId'])
    .where('id', '=', id)
    .where('userId', '=', userId)
    .where('detachedAt', 'is', null)
    .executeTakeFirst();
  // Another student's card is "not found", never "forbidden": ids do not leak.
  if (!row) throw notFound('The payment method', 'id');
  return row;
}

/** Makes one of the caller's cards the default for future payments. */
export async function setDefaultPaymentMethod(db: Kysely<DB>, caller: AuditContext, id: string): Promise<SavedCard> {
  const { userId } = requireUser(caller.principal);
  return db.transaction().execute(async (trx) => {
    await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().executeTakeFirstOrThrow();
    const card = await ownCard(trx, userId, id);
    const before = await trx
      .selectFrom('paymentMethods')
      .select('id')
      .where('userId', '=', userId)
      .where('isDefault', '=', true)
      .where('detachedAt', 'is', null)
      .executeTakeFirst();
    if (before?.id !== id) {
      await trx
        .updateTable('paymentMethods')
        .set({ isDefault: false })
        .where('userId', '=', userId)
        .where('isDefault', '=', true)
        .execute();
      await trx.updateTable('paymentMethods').set({ isDefault: true }).where('id', '=', id).execute();
      await recordAudit(trx, caller, {
        action: 'payment_method.set_default',
        resourceType: 'payment_method',
        resourceId: id,
        before: { defaultPaymentMethodId: before?.id ?? null },
        after: { defaultPaymentMethodId: id },
      });
    }
    return { ...toSavedCard(card), isDefault: true };
  });
}

/**
 * Removes a card: detached at the provider so it can never be charged again, kept in our records
 * (payments made with it still point at it). A card that pays for a lesson not yet settled stays.
 * Removing the default makes the newest remaining card the default.
 */
export async function removePaymentMethod(db: Kysely<DB>, caller: AuditContext, id: string, deps: PaymentMethodsDeps): Promise<void> {
  const { userId } = requireUser(caller.principal);
  const card = await ownCard(db, userId, id);
  const inUse = await db
    .selectFrom('bookingPayments')
    .select('bookingId')
    .where('paymentMethodId', '=', id)
    .where('settledAt', 'is', null)
    .where('capturedAt', 'is', null)
    .executeTakeFirst();
  if (inUse) {
    throw new AppError(
      'in_use',
      'This card pays for a lesson that is not settled yet; make another card the default or cancel that lesson first.',
      'id',
    );
  }
  // The provider first: a card we hide but the provider still holds could be charged; the other
  // way round, a retried removal finds it still listed and detaching again is harmless.
  await askProvider(() => deps.payments.detachPaymentMethod(card.providerPaymentMethodId));
  await db.transaction().execute(async (trx) => {
    await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().executeTakeFirstOrThrow();
    const detached = await trx
      .updateTable('paymentMethods')
      .set({ detachedAt: deps.clock.now(), isDefault: false })
      .where('id', '=', id)
      .where('detachedAt', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!detached) return;
    let newDefault: string | null = null;
    if (card.isDefault) {
      const next = await trx
        .selectFrom('paymentMethods')
        .select('id')
        .where('userId', '=', userId)
        .where('detachedAt', 'is', null)
        .orderBy('createdAt', 'desc')
        .orderBy('id', 'desc')
        .executeTakeFirst();
      if (next) {
        await trx.updateTable('paymentMethods').set({ isDefault: true }).where('id', '=', next.id).execute();
        newDefault = next.id;
      }
    }
    await recordAudit(trx, caller, {
      action: 'payment_method.remove',
      resourceType: 'payment_method',
      resourceId: id,
      before: { brand: card.brand, last4: card.last4, isDefault: card.isDefault },
      after: { detached: true, newDefaultPaymentMethodId: newDefault },
    });
  });
}

/** The student's default card (id and provider id), for the payment lifecycle; undefined when none. */
export async function findDefaultPaymentMethod(
  db: Kysely<DB>,
  userId: string,
): Promise<{ id: string; providerPaymentMethodId: string; provider: string; customerId: string | null } | undefined> {
  return db
    .selectFrom('paymentMethods')
    .leftJoin('paymentCustomers', 'paymentCustomers.userId', 'paymentMethods.userId')
    .select(['paymentMethods.id', 'paymentMethods.providerPaymentMethodId', 'paymentMethods.provider', 'paymentCustomers.customerId'])
    .where('paymentMethods.userId', '=', userId)
    .where('paymentMethods.isDefault', '=', true)
    .where('paymentMethods.detachedAt', 'is', null)
    .executeTakeFirst();
}

/**
 * Saves the card of a SetupIntent that succeeded, for the student whose customer it belongs to
 * (the `setup_intent.succeeded` webhook: the browser may never have come back to save it).
 * Re-reads the SetupIntent; a card already saved (or removed since) is left alone.
 */
export async function saveCardFromSetupIntent(
  db: Kysely<DB>,
  setupIntentId: string,
  deps: PaymentMethodsDeps,
): Promise<'saved' | 'already_saved' | 'not_succeeded' | 'unknown_customer'> {
  const setup = await deps.payments.retrieveSetupIntent(setupIntentId);
  if (setup.status !== 'succeeded' || !setup.paymentMethodId || !setup.customerId) return 'not_succeeded';
  const customer = await db
    .selectFrom('paymentCustomers')
    .select('userId')
    .where('customerId', '=', setup.customerId)
    .where('provider', '=', deps.payments.name)
    .executeTakeFirst();
  if (!customer) return 'unknown_customer';
  const known = await db
    .selectFrom('paymentMethods')
    .select('id')
    .where('providerPaymentMethodId', '=', setup.paymentMethodId)
    .executeTakeFirst();
  if (known) return 'already_saved';
  const card = await deps.payments.retrievePaymentMethod(setup.paymentMethodId);
  await storeCard(db, SYSTEM_CONTEXT, customer.userId, card, deps);
  return 'saved';
}
