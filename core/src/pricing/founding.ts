import type { DB } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import { type AuditContext, recordAudit } from '../audit/record-audit.ts';
import { AppError, notFound } from '../shared/errors.ts';
import {
  countFounding,
  findFoundingInstructors,
  findFoundingProfile,
  findFreeFoundingNumber,
  lockFoundingCap,
  markFounding,
} from './pricing.queries.ts';
import { FOUNDING_FEE_BPS } from './tiers.ts';

/** At most this many founding instructors, ever (spec/payments.md §Amounts). */
export const FOUNDING_CAP = 100;

export interface FoundingGrant {
  instructorId: string;
  foundingNumber: number;
  grantedAt: Date;
  feeBps: number;
  /** False when the instructor already was a founding instructor (nothing changed). */
  granted: boolean;
}

/**
 * Makes an instructor a founding instructor (8% for life) with the lowest free founding number.
 * The cap is enforced atomically: a transaction-scoped advisory lock serializes every grant, so
 * the count check and the write are one step even across API processes; the unique
 * founding_number (1..100) stays the last line of defence. Idempotent per instructor.
 * Throws `conflict` when all 100 places are taken, `not_found` without an instructor profile.
 */
export async function grantFoundingStatus(
  trx: Transaction<DB>,
  instructorId: string,
  caller: AuditContext,
  now: Date,
): Promise<FoundingGrant> {
  await lockFoundingCap(trx);
  const profile = await findFoundingProfile(trx, instructorId, { lock: true });
  if (!profile) throw notFound('The instructor', 'id');
  if (profile.isFounding && profile.foundingNumber !== null) {
    return {
      instructorId,
      foundingNumber: profile.foundingNumber,
      grantedAt: profile.foundingGrantedAt ?? now,
      feeBps: FOUNDING_FEE_BPS,
      granted: false,
    };
  }
  const foundingNumber = await findFreeFoundingNumber(trx, FOUNDING_CAP);
  if (foundingNumber === undefined) {
    throw new AppError('conflict', `All ${FOUNDING_CAP} founding-instructor places are taken.`, 'id');
  }
  await markFounding(trx, instructorId, foundingNumber, FOUNDING_FEE_BPS, now);
  await recordAudit(trx, caller, {
    action: 'instructor.founding.grant',
    resourceType: 'instructor',
    resourceId: instructorId,
    before: { isFounding: false, feeBps: profile.tierFeeBps },
    after: { isFounding: true, foundingNumber, feeBps: FOUNDING_FEE_BPS },
    metadata: { cap: FOUNDING_CAP },
  });
  return { instructorId, foundingNumber, grantedAt: now, feeBps: FOUNDING_FEE_BPS, granted: true };
}

/** `grantFoundingStatus` in its own transaction, for the admin route. */
export async function grantFounding(db: Kysely<DB>, instructorId: string, caller: AuditContext, now: Date): Promise<FoundingGrant> {
  return db.transaction().execute((trx) => grantFoundingStatus(trx, instructorId, caller, now));
}

/** How many founding instructors there are now (referral payouts depend on it: $75 below the cap, $50 after). */
export async function countFoundingInstructors(db: Kysely<DB>): Promise<number> {
  return countFounding(db);
}

export interface FoundingSummary {
  count: number;
  cap: number;
  remaining: number;
  feeBps: number;
  instructors: Array<{
    instructorId: string;
    foundingNumber: number;
    name: string;
    grantedAt: string | null;
    isLive: boolean;
    verificationStatus: string;
  }>;
}

/** How many founding places are used and by whom, in founding-number order. */
export async function getFoundingSummary(db: Kysely<DB>): Promise<FoundingSummary> {
  const [count, rows] = await Promise.all([countFounding(db), findFoundingInstructors(db)]);
  return {
    count,
    cap: FOUNDING_CAP,
    remaining: Math.max(FOUNDING_CAP - count, 0),
    feeBps: FOUNDING_FEE_BPS,
    instructors: rows.map((row) => ({
      instructorId: row.instructorId,
      foundingNumber: row.foundingNumber ?? 0,
      name: `${row.firstName} ${row.lastName}`,
      grantedAt: row.foundingGrantedAt?.toISOString() ?? null,
      isLive: row.isLive,
      verificationStatus: row.verificationStatus,
    })),
  };
}
