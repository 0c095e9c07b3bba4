import type { DB } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { type AttributionStatus, type ReferralAttribution, toAttribution } from './attribute-referral.ts';

export interface ReferralListItem extends ReferralAttribution {
  referrerName: string;
  referredName: string;
  deviceFingerprintHash: string | null;
  ipHash: string | null;
  cardFingerprint: string | null;
  reviewedAt: Date | null;
  reviewedBy: string | null;
  rewards: Array<{
    id: string;
    role: string;
    kind: string;
    amountCents: number;
    status: string;
    holdUntil: Date;
    expiresAt: Date;
    blockedReason: string | null;
    voidReason: string | null;
    transferId: string | null;
  }>;
}

export interface ReferralListQuery {
  status?: AttributionStatus | undefined;
  flagged?: boolean | undefined;
  referrerId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

const ListCursor = z.object({ at: z.string(), id: z.string() });

/** Referral attributions for staff (newest first), with their rewards: the fraud review queue. */
export async function findReferrals(db: Kysely<DB>, query: ReferralListQuery): Promise<Page<ReferralListItem>> {
  const after = decodeCursor(query.cursor, ListCursor);
  let select = db
    .selectFrom('referralAttributions as a')
    .innerJoin('users as referrer', 'referrer.id', 'a.referrerId')
    .innerJoin('users as referred', 'referred.id', 'a.referredId')
    .selectAll('a')
    .select([
      sql<string>`referrer.first_name || ' ' || referrer.last_name`.as('referrerName'),
      sql<string>`referred.first_name || ' ' || referred.last_name`.as('referredName'),
    ]);
  if (query.status) select = select.where('a.status', '=', query.status);
  if (query.flagged !== undefined) select = select.where('a.flagged', '=', query.flagged);
  if (query.referrerId) select = select.where('a.referrerId', '=', query.referrerId);
  if (after) {
    const at = new Date(after.at);
    select = select.where((eb) =>
      eb.or([eb('a.attributedAt', '<', at), eb.and([eb('a.attributedAt', '=', at), eb('a.id', '<', after.id)])]),
    );
  }
  const rows = await select
    .orderBy('a.attributedAt', 'desc')
    .orderBy('a.id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const ids = rows.map((row) => row.id);
  const rewards =
    ids.length === 0
      ? []
      : await db
          .selectFrom('referralRewards')
          .select([
            'id',
            'attributionId',
            'role',
            'kind',
            'amountCents',
            'status',
            'holdUntil',
            'expiresAt',
            'blockedReason',
            'voidReason',
            'transferId',
          ])
          .where('attributionId', 'in', ids)
          .orderBy('id')
          .execute();
  return toPage(
    rows,
    query.limit,
    (row) => ({
      ...toAttribution(row),
      referrerName: row.referrerName,
      referredName: row.referredName,
      deviceFingerprintHash: row.deviceFingerprintHash,
      ipHash: row.ipHash,
      cardFingerprint: row.cardFingerprint,
      reviewedAt: row.reviewedAt,
      reviewedBy: row.reviewedBy,
      rewards: rewards.filter((reward) => reward.attributionId === row.id).map(({ attributionId: _attributionId, ...reward }) => reward),
    }),
    (row) => ({ at: row.attributedAt.toISOString(), id: row.id }),
  );
}
