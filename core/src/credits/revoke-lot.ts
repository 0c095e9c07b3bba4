import type { DB } from '@instainstru/db';
import type { Transaction } from 'kysely';
import { lockLots, SYSTEM_ACTOR, writeEntries } from './credit-ledger.ts';

export interface LotRevocation {
  lotId: string;
  /** Unspent credit withdrawn now. */
  revokedCents: number;
  /** Held for a booking: the lot is revoked, so releasing that reservation withdraws it then. */
  stillReservedCents: number;
  /** Already spent on lessons: never clawed back (a balance never goes negative). */
  unrecoveredCents: number;
}

/**
 * Withdraws what is left of a credit lot whose reason went away (a refunded lesson's loyalty award,
 * a voided referral reward): the unspent part leaves the balance through a `revoke` ledger entry,
 * and the lot is marked revoked so a reservation released later is withdrawn too. Takes the lot's
 * row lock; revoking an already revoked lot withdraws nothing more.
 */
export async function revokeCreditLot(
  trx: Transaction<DB>,
  input: { lotId: string; bookingId: string; now: Date; reason: string },
): Promise<LotRevocation | null> {
  const lot = (await lockLots(trx, [input.lotId])).get(input.lotId);
  if (!lot) return null;
  const revokedCents = lot.revokedAt ? 0 : lot.availableCents;
  if (revokedCents > 0) {
    await writeEntries(
      trx,
      [
        {
          userId: lot.userId,
          lotId: lot.id,
          kind: 'revoke',
          availableDeltaCents: -revokedCents,
          reservedDeltaCents: 0,
          bookingId: input.bookingId,
          reason: input.reason,
        },
      ],
      SYSTEM_ACTOR,
      input.now,
    );
  }
  await trx
    .updateTable('creditLots')
    .set({ revokedAt: input.now, revokedReason: input.reason })
    .where('id', '=', lot.id)
    .where('revokedAt', 'is', null)
    .execute();
  return {
    lotId: lot.id,
    revokedCents,
    stillReservedCents: lot.reservedCents,
    unrecoveredCents: lot.originalCents - lot.availableCents - lot.reservedCents,
  };
}
