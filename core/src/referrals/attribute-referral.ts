import { type DB, newId, type ReferralAttributions } from '@instainstru/db';
import type { Kysely, Selectable } from 'kysely';
import { type AuditContext, recordAudit } from '../audit/record-audit.ts';
import { requireUser } from '../auth/principal.ts';
import { addDays } from '../credits/credit-config.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError, notFound } from '../shared/errors.ts';
import { normalizeReferralCode } from './referral-codes.ts';
import { REFERRAL_CONFIG } from './referral-config.ts';
import { cardFingerprintsOf, findSelfReferral, recordFingerprints, velocityFlag } from './referral-fraud.ts';

export type AttributionStatus = 'attributed' | 'held' | 'qualified' | 'rejected';

export interface ReferralAttribution {
  id: string;
  code: string;
  referrerId: string;
  referredId: string;
  kind: 'student' | 'instructor';
  status: AttributionStatus;
  flagged: boolean;
  flagReason: string | null;
  rejectionReason: string | null;
  attributedAt: Date;
  qualifiedAt: Date | null;
  qualifyingBookingId: string | null;
}

export function toAttribution(row: Selectable<ReferralAttributions>): ReferralAttribution {
  return {
    id: row.id,
    code: row.code,
    referrerId: row.referrerId,
    referredId: row.referredId,
    kind: row.kind as ReferralAttribution['kind'],
    status: row.status as AttributionStatus,
    flagged: row.flagged,
    flagReason: row.flagReason,
    rejectionReason: row.rejectionReason,
    attributedAt: row.attributedAt,
    qualifiedAt: row.qualifiedAt,
    qualifyingBookingId: row.qualifyingBookingId,
  };
}

/**
 * The signed-in user says who referred them (at sign-up or before their first lesson). The kind
 * follows the user: an instructor's referrer earns cash, a student's referrer and the student
 * earn credits. Fraud rules apply here: a shared device, IP or card with the referrer is a
 * self-referral and is recorded as rejected with its reason; more than 5 attributions to one
 * referrer in a day (15 in a week) is recorded as held for review. Both come back with status
 * 201 so the outcome is on record; only an unusable request is an error.
 *
 * Idempotent: applying the same code again returns the existing attribution.
 */
export async function attributeReferral(
  db: Kysely<DB>,
  caller: AuditContext,
  input: { code: string; deviceFingerprintHash?: string | undefined },
  deps: { clock: Clock },
): Promise<{ attribution: ReferralAttribution; created: boolean }> {
  const user = requireUser(caller.principal);
  const code = normalizeReferralCode(input.code);
  const deviceHash = input.deviceFingerprintHash ?? null;
  const ipHash = caller.ipHash ?? null;
  return db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    // The code row is the referrer's lock: attributions to one referrer are counted one at a time.
    const owner = await trx
      .selectFrom('referralCodes')
      .selectAll()
      .where('code', '=', code)
      .where('disabledAt', 'is', null)
      .forUpdate()
      .executeTakeFirst();
    if (!owner) throw notFound('Referral code', 'code');
    if (owner.userId === user.userId) throw new AppError('validation_error', 'You cannot use your own referral code.', 'code');

    const existing = await trx
      .selectFrom('referralAttributions')
      .selectAll()
      .where('referredId', '=', user.userId)
      .where('status', '<>', 'rejected')
      .executeTakeFirst();
    if (existing) {
      if (existing.code === code) return { attribution: toAttribution(existing), created: false };
      throw new AppError('already_exists', 'You have already been referred by someone else; a referral applies once.', 'code');
    }

    const account = await trx
      .selectFrom('users')
      .leftJoin('instructorProfiles', 'instructorProfiles.userId', 'users.id')
      .select(['users.createdAt', 'instructorProfiles.userId as instructorId'])
      .where('users.id', '=', user.userId)
      .executeTakeFirstOrThrow();
    const kind = account.instructorId !== null || user.roles.includes('instructor') ? 'instructor' : 'student';
    if (now.getTime() > addDays(account.createdAt, REFERRAL_CONFIG.attributionWindowDays).getTime()) {
      throw new AppError(
        'conflict',
        `A referral code can be applied within ${REFERRAL_CONFIG.attributionWindowDays} days of signing up; this account is older.`,
        'code',
      );
    }
    const completed = await trx
      .selectFrom('bookings')
      .select('id')
      .where(kind === 'instructor' ? 'instructorId' : 'studentId', '=', user.userId)
      .where('status', '=', 'completed')
      .executeTakeFirst();
    if (completed) throw new AppError('conflict', 'A referral code must be applied before your first completed lesson.', 'code');

    await recordFingerprints(trx, user.userId, { deviceHash, ipHash }, now);
    const selfReferral = await findSelfReferral(trx, { referrerId: owner.userId, referredId: user.userId, deviceHash, ipHash });
    const velocity = selfReferral ? null : await velocityFlag(trx, owner.userId, now);
    const cards = await cardFingerprintsOf(trx, user.userId);
    const status: AttributionStatus = selfReferral ? 'rejected' : velocity ? 'held' : 'attributed';
    const row = {
      id: newId(),
      code,
      referrerId: owner.userId,
      referredId: user.userId,
      kind,
      deviceFingerprintHash: deviceHash,
      ipHash,
      cardFingerprint: selfReferral?.cardFingerprint ?? cards[0] ?? null,
      attributedAt: now,
      status,
      flagged: status !== 'attributed',
      flagReason: selfReferral?.reason ?? velocity,
      rejectionReason: selfReferral?.reason ?? null,
      createdAt: now,
      updatedAt: now,
    };
    const inserted = await trx.insertInto('referralAttributions').values(row).returningAll().executeTakeFirstOrThrow();
    await recordAudit(trx, caller, {
      action: 'referral.attribute',
      resourceType: 'referral_attribution',
      resourceId: row.id,
      after: { referrerId: owner.userId, kind, status, flagReason: row.flagReason },
      outcome: status === 'rejected' ? 'denied' : 'success',
      reason: row.flagReason,
    });
    return { attribution: toAttribution(inserted), created: true };
  });
}
