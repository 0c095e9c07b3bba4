import type { DB } from '@instainstru/db';
import type { Transaction } from 'kysely';
import { recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { type LedgerEntry, lockLots, SYSTEM_ACTOR, writeEntries } from './credit-ledger.ts';

/**
 * The daily expiry (job 'credits.expire'): every unreserved credit whose lot is past its expiry
 * gets an expire entry. Reserved credit is left alone (it does not expire while held; if it is
 * released later, the release expires it). Lots are locked and re-checked, so a checkout
 * reserving at the same moment either gets the credit first or sees it gone.
 */
export async function expireCredits(
  trx: Transaction<DB>,
  now: Date,
  options: { limit?: number } = {},
): Promise<{ expiredLots: number; expiredCents: number; users: number }> {
  const due = await trx
    .selectFrom('creditLots')
    .select('id')
    .where('expiresAt', '<=', now)
    .where('availableCents', '>', 0)
    .orderBy('id')
    .limit(options.limit ?? 10_000)
    .execute();
  const lots = await lockLots(
    trx,
    due.map((row) => row.id),
  );
  const entries: LedgerEntry[] = [];
  const users = new Set<string>();
  for (const lot of lots.values()) {
    if (lot.availableCents <= 0 || lot.expiresAt.getTime() > now.getTime()) continue;
    users.add(lot.userId);
    entries.push({
      userId: lot.userId,
      lotId: lot.id,
      kind: 'expire',
      availableDeltaCents: -lot.availableCents,
      reservedDeltaCents: 0,
      bookingId: null,
      reason: `Expired on ${lot.expiresAt.toISOString().slice(0, 10)}`,
    });
  }
  await writeEntries(trx, entries, SYSTEM_ACTOR, now);
  const expiredCents = -entries.reduce((sum, entry) => sum + entry.availableDeltaCents, 0);
  if (entries.length > 0) {
    await recordAudit(trx, SYSTEM_CONTEXT, {
      action: 'credits.expire',
      resourceType: 'credit_lot',
      after: {
        expiredLots: entries.length,
        expiredCents,
        lots: entries.slice(0, 100).map((entry) => ({ lotId: entry.lotId, userId: entry.userId, cents: -entry.availableDeltaCents })),
      },
    });
  }
  return { expiredLots: entries.length, expiredCents, users: users.size };
}
