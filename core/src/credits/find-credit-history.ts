import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import type { LedgerKind } from './credit-ledger.ts';

export interface CreditHistoryItem {
  id: string;
  kind: LedgerKind;
  /** Change of the balance (available + reserved). */
  amountCents: number;
  availableDeltaCents: number;
  reservedDeltaCents: number;
  reason: string;
  bookingId: string | null;
  lotId: string;
  source: string;
  lotExpiresAt: Date;
  at: Date;
}

const HistoryCursor = z.object({ at: z.string(), id: z.string() });

/** A user's ledger, newest first, keyset-paginated. */
export async function findCreditHistory(
  db: Kysely<DB>,
  userId: string,
  query: { limit: number; cursor?: string | undefined; bookingId?: string | undefined },
): Promise<Page<CreditHistoryItem>> {
  const after = decodeCursor(query.cursor, HistoryCursor);
  let select = db
    .selectFrom('creditLedger as e')
    .innerJoin('creditLots as l', 'l.id', 'e.lotId')
    .where('e.userId', '=', userId)
    .select([
      'e.id',
      'e.kind',
      'e.availableDeltaCents',
      'e.reservedDeltaCents',
      'e.reason',
      'e.bookingId',
      'e.lotId',
      'e.at',
      'l.source',
      'l.expiresAt as lotExpiresAt',
    ]);
  if (query.bookingId) select = select.where('e.bookingId', '=', query.bookingId);
  if (after) {
    const at = new Date(after.at);
    select = select.where((eb) => eb.or([eb('e.at', '<', at), eb.and([eb('e.at', '=', at), eb('e.id', '<', after.id)])]));
  }
  const rows = await select
    .orderBy('e.at', 'desc')
    .orderBy('e.id', 'desc')
    .limit(query.limit + 1)
    .execute();
  return toPage(
    rows,
    query.limit,
    (row) => ({
      id: row.id,
      kind: row.kind as LedgerKind,
      amountCents: row.availableDeltaCents + row.reservedDeltaCents,
      availableDeltaCents: row.availableDeltaCents,
      reservedDeltaCents: row.reservedDeltaCents,
      reason: row.reason,
      bookingId: row.bookingId,
      lotId: row.lotId,
      source: row.source,
      lotExpiresAt: row.lotExpiresAt,
      at: row.at,
    }),
    (row) => ({ at: row.at.toISOString(), id: row.id }),
  );
}
