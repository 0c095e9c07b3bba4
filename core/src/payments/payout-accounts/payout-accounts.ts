import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { type AuditContext, recordAudit, SYSTEM_CONTEXT } from '../../audit/record-audit.ts';
import { requireUser } from '../../auth/principal.ts';
import type { Clock } from '../../shared/clock.ts';
import { AppError, notFound } from '../../shared/errors.ts';
import { idempotencyKey } from '../idempotency-keys.ts';
import type { ConnectedAccountState, PaymentProvider } from '../provider.ts';
import { askProvider } from '../providers/provider-errors.ts';
import { callProviderRecorded } from '../providers/record-operation.ts';

export interface PayoutAccountDeps {
  payments: PaymentProvider;
  clock: Clock;
  /** Front-end origins an onboarding link may send the instructor back to (CORS_ORIGINS). */
  allowedReturnOrigins: readonly string[];
}

/** `not_started` → `onboarding` (details missing) → `pending_verification` → `active` (payouts enabled). */
export type PayoutAccountStatus = 'not_started' | 'onboarding' | 'pending_verification' | 'active';

export interface PayoutAccount {
  accountId: string | null;
  status: PayoutAccountStatus;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
  chargesEnabled: boolean;
  updatedAt: string | null;
  provider: 'stripe' | 'offline';
  offline: boolean;
}

function statusOf(state: { payoutsEnabled: boolean; detailsSubmitted: boolean } | null): PayoutAccountStatus {
  if (!state) return 'not_started';
  if (state.payoutsEnabled) return 'active';
  return state.detailsSubmitted ? 'pending_verification' : 'onboarding';
}

async function instructorProfile(db: Kysely<DB>, userId: string) {
  const profile = await db
    .selectFrom('instructorProfiles')
    .select(['userId', 'stripeAccountId', 'payoutProvider', 'payoutsEnabled', 'payoutDetailsSubmitted', 'payoutAccountUpdatedAt'])
    .where('userId', '=', userId)
    .executeTakeFirst();
  // Payout accounts belong to instructors; anyone else has nothing to onboard.
  if (!profile) throw notFound('The instructor profile');
  return profile;
}

/**
 * Stores what the provider says about a connected account on the instructor's profile (payouts
 * enabled, details submitted), audited when it changed. Used by GET /payouts/account and by the
 * `account.updated` webhook. Answers which instructor it was, or null for an unknown account.
 */
export async function syncPayoutAccountState(
  db: Kysely<DB>,
  state: ConnectedAccountState,
  now: Date,
  caller: AuditContext = SYSTEM_CONTEXT,
): Promise<{ userId: string | null; changed: boolean }> {
  return db.transaction().execute(async (trx) => {
    const profile = await trx
      .selectFrom('instructorProfiles')
      .select(['userId', 'payoutsEnabled', 'payoutDetailsSubmitted'])
      .where('stripeAccountId', '=', state.accountId)
      .forUpdate()
      .executeTakeFirst();
    if (!profile) return { userId: null, changed: false };
    const changed = profile.payoutsEnabled !== state.payoutsEnabled || profile.payoutDetailsSubmitted !== state.detailsSubmitted;
    await trx
      .updateTable('instructorProfiles')
      .set({ payoutsEnabled: state.payoutsEnabled, payoutDetailsSubmitted: state.detailsSubmitted, payoutAccountUpdatedAt: now })
      .where('userId', '=', profile.userId)
      .execute();
    if (changed) {
      await recordAudit(trx, caller, {
        action: 'payout_account.updated',
        resourceType: 'instructor',
        resourceId: profile.userId,
        before: { payoutsEnabled: profile.payoutsEnabled, detailsSubmitted: profile.payoutDetailsSubmitted },
        after: { accountId: state.accountId, payoutsEnabled: state.payoutsEnabled, detailsSubmitted: state.detailsSubmitted },
      });
    }
    return { userId: profile.userId, changed };
  });
}

function checkReturnUrl(value: string, field: string, allowed: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AppError('validation_error', 'Use an absolute URL.', field);
  }
  if (!allowed.includes(url.origin)) {
    throw new AppError('validation_error', `The link can only return to this platform's own sites (${allowed.join(', ')}).`, field);
  }
  return url.toString();
}

/**
 * A one-time onboarding link for the instructor's payout account (Stripe Connect Express),
 * creating the account on first use (`connected-account:{provider}:{userId}:1`, so two clicks
 * make one account). Audited.
 */
export async function createPayoutOnboardingLink(
  db: Kysely<DB>,
  caller: AuditContext,
  input: { returnUrl?: string | undefined; refreshUrl?: string | undefined },
  deps: PayoutAccountDeps,
): Promise<{ url: string; expiresAt: string; account: PayoutAccount }> {
  const { userId } = requireUser(caller.principal);
  const profile = await instructorProfile(db, userId);
  const base = deps.allowedReturnOrigins[0];
  if (!base) throw new AppError('unavailable', 'No front-end origin is configured (CORS_ORIGINS) to return to after onboarding.');
  const returnUrl = checkReturnUrl(
    input.returnUrl ?? `${base}/instructor/payouts?onboarding=return`,
    'returnUrl',
    deps.allowedReturnOrigins,
  );
  const refreshUrl = checkReturnUrl(
    input.refreshUrl ?? `${base}/instructor/payouts?onboarding=refresh`,
    'refreshUrl',
    deps.allowedReturnOrigins,
  );

  let accountId = profile.payoutProvider === deps.payments.name ? profile.stripeAccountId : null;
  if (!accountId) {
    const user = await db.selectFrom('users').select(['email']).where('id', '=', userId).executeTakeFirstOrThrow();
    const key = idempotencyKey('connected-account', `${deps.payments.name}:${userId}`);
    const created = await askProvider(() =>
      callProviderRecorded(
        db,
        { provider: deps.payments.name, purpose: 'connected-account', idempotencyKey: key, userId, request: { userId } },
        () => deps.payments.createConnectedAccount({ userId, email: user.email }, key),
        (result) => ({ status: 'succeeded', providerObjectId: result.accountId }),
        () => deps.clock.now(),
      ),
    );
    accountId = created.accountId;
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('instructorProfiles')
        .set({
          stripeAccountId: accountId,
          payoutProvider: deps.payments.name,
          payoutsEnabled: false,
          payoutDetailsSubmitted: false,
          payoutAccountUpdatedAt: deps.clock.now(),
        })
        .where('userId', '=', userId)
        .execute();
      await recordAudit(trx, caller, {
        action: 'payout_account.create',
        resourceType: 'instructor',
        resourceId: userId,
        before: { accountId: profile.stripeAccountId, provider: profile.payoutProvider },
        after: { accountId, provider: deps.payments.name },
      });
    });
  }
  const link = await askProvider(() => deps.payments.createOnboardingLink({ accountId: accountId!, refreshUrl, returnUrl }));
  await recordAudit(db, caller, {
    action: 'payout_account.onboarding_link',
    resourceType: 'instructor',
    resourceId: userId,
    after: { accountId, expiresAt: link.expiresAt.toISOString(), provider: deps.payments.name },
  });
  const account = await getPayoutAccount(db, caller, deps);
  return { url: link.url, expiresAt: link.expiresAt.toISOString(), account };
}

/** The instructor's payout account, its status re-read from the provider (and stored). */
export async function getPayoutAccount(db: Kysely<DB>, caller: AuditContext, deps: PayoutAccountDeps): Promise<PayoutAccount> {
  const { userId } = requireUser(caller.principal);
  const profile = await instructorProfile(db, userId);
  const label = { provider: deps.payments.name, offline: deps.payments.offline };
  const accountId = profile.payoutProvider === deps.payments.name || profile.payoutProvider === null ? profile.stripeAccountId : null;
  if (!accountId) {
    return {
      accountId: null,
      status: 'not_started',
      payoutsEnabled: false,
      detailsSubmitted: false,
      chargesEnabled: false,
      updatedAt: null,
      ...label,
    };
  }
  const state = await askProvider(() => deps.payments.retrieveAccount(accountId));
  const now = deps.clock.now();
  await syncPayoutAccountState(db, state, now, caller);
  return {
    accountId,
    status: statusOf(state),
    payoutsEnabled: state.payoutsEnabled,
    detailsSubmitted: state.detailsSubmitted,
    chargesEnabled: state.chargesEnabled,
    updatedAt: now.toISOString(),
    ...label,
  };
}
