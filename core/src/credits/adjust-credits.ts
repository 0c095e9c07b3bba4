import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { type AuditContext, recordAudit } from '../audit/record-audit.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError, notFound } from '../shared/errors.ts';
import { CREDIT_CONFIG, creditExpiryFrom } from './credit-config.ts';
import { actorOf, assertCents, byExpiry, dollars, type LedgerEntry, lockSpendableLots, writeEntries } from './credit-ledger.ts';
import { type CreditBalance, getCreditBalance } from './get-credit-balance.ts';
import { issueCredit } from './issue-credit.ts';

export interface CreditAdjustment {
  userId: string;
  amountCents: number;
  reason: string;
  /** A new lot for additions; the lots taken from for removals. */
  lots: Array<{ lotId: string; amountCents: number }>;
  balance: CreditBalance;
  auditId: string;
}

/**
 * An admin adds (+) or removes (−) credit (permission credits:adjust). Additions become an
 * 'admin' lot expiring in a year; removals take available credit, oldest expiry first, and may
 * never exceed it: reserved credit belongs to a booking and is not touched, and a balance never
 * goes negative — asking for more is refused and nothing changes.
 */
export async function adjustCredits(
  db: Kysely<DB>,
  caller: AuditContext,
  userId: string,
  input: { amountCents: number; reason: string; currency?: string | undefined },
  deps: { clock: Clock },
): Promise<CreditAdjustment> {
  if (input.currency !== undefined && input.currency.toLowerCase() !== CREDIT_CONFIG.currency) {
    throw new AppError('validation_error', `Credits are kept in USD; "${input.currency}" is not accepted.`, 'currency');
  }
  assertCents(input.amountCents, 'amountCents', { allowNegative: true });
  if (input.amountCents === 0) throw new AppError('validation_error', 'amountCents must not be zero.', 'amountCents');
  if (Math.abs(input.amountCents) > CREDIT_CONFIG.maxAdjustmentCents) {
    throw new AppError('validation_error', `One adjustment may move at most ${dollars(CREDIT_CONFIG.maxAdjustmentCents)}.`, 'amountCents');
  }
  const reason = input.reason.trim();
  if (reason.length === 0) throw new AppError('validation_error', 'Say why the credit is adjusted.', 'reason');

  return db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const user = await trx.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
    if (!user) throw notFound('User', 'id');
    const before = await getCreditBalance(trx, userId, now);
    let lots: Array<{ lotId: string; amountCents: number }>;
    if (input.amountCents > 0) {
      const { lotId } = await issueCredit(trx, {
        userId,
        amountCents: input.amountCents,
        source: 'admin',
        expiresAt: creditExpiryFrom(now),
        reason,
        actor: caller,
        kind: 'adjust',
        now,
      });
      lots = [{ lotId, amountCents: input.amountCents }];
    } else {
      const spendable = await lockSpendableLots(trx, userId, now);
      const available = spendable.reduce((sum, lot) => sum + lot.availableCents, 0);
      const wanted = -input.amountCents;
      if (wanted > available) {
        throw new AppError(
          'conflict',
          `Cannot remove ${dollars(wanted)}: only ${dollars(available)} is available (credit held for bookings cannot be removed).`,
          'amountCents',
        );
      }
      let remaining = wanted;
      const entries: LedgerEntry[] = [];
      lots = [];
      for (const lot of spendable.sort(byExpiry)) {
        if (remaining === 0) break;
        const take = Math.min(lot.availableCents, remaining);
        remaining -= take;
        lots.push({ lotId: lot.id, amountCents: -take });
        entries.push({ userId, lotId: lot.id, kind: 'adjust', availableDeltaCents: -take, reservedDeltaCents: 0, reason });
      }
      await writeEntries(trx, entries, actorOf(caller), now);
    }
    const balance = await getCreditBalance(trx, userId, now);
    const auditId = await recordAudit(trx, caller, {
      action: 'credits.adjust',
      resourceType: 'user',
      resourceId: userId,
      before: { availableCents: before.availableCents, reservedCents: before.reservedCents },
      after: { availableCents: balance.availableCents, reservedCents: balance.reservedCents, amountCents: input.amountCents, lots },
      reason,
    });
    return { userId, amountCents: input.amountCents, reason, lots, balance, auditId };
  });
}
