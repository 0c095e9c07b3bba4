import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { type AuditContext, recordAudit } from '../audit/record-audit.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError, notFound } from '../shared/errors.ts';
import { type ReferralAttribution, toAttribution } from './attribute-referral.ts';

/**
 * Staff decide on an attribution held by the velocity rule: `approve` lets it continue (its
 * pending rewards unlock on the next run of the unlocker once their hold has passed), `reject`
 * rejects it and voids its pending rewards. Audited with the reviewer's note.
 */
export async function reviewReferral(
  db: Kysely<DB>,
  caller: AuditContext,
  attributionId: string,
  input: { decision: 'approve' | 'reject'; note: string },
  deps: { clock: Clock },
): Promise<ReferralAttribution> {
  return db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const row = await trx.selectFrom('referralAttributions').selectAll().where('id', '=', attributionId).forUpdate().executeTakeFirst();
    if (!row) throw notFound('Referral', 'id');
    if (row.status !== 'held')
      throw new AppError('conflict', `Only a referral held for review can be decided; this one is ${row.status}.`, 'id');
    const reviewer =
      caller.principal.kind === 'user' ? caller.principal.userId : caller.principal.kind === 'service' ? caller.principal.serviceId : null;
    const status = input.decision === 'reject' ? 'rejected' : row.qualifiedAt ? 'qualified' : 'attributed';
    const updated = await trx
      .updateTable('referralAttributions')
      .set({
        status,
        rejectionReason: input.decision === 'reject' ? 'rejected_on_review' : null,
        reviewedAt: now,
        reviewedBy: reviewer,
        reviewNote: input.note,
        updatedAt: now,
      })
      .where('id', '=', attributionId)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.decision === 'reject') {
      await trx
        .updateTable('referralRewards')
        .set({ status: 'void', voidReason: 'attribution_rejected', voidedAt: now, updatedAt: now })
        .where('attributionId', '=', attributionId)
        .where('status', '=', 'pending')
        .execute();
    } else {
      await trx
        .updateTable('referralRewards')
        .set({ blockedReason: null, updatedAt: now })
        .where('attributionId', '=', attributionId)
        .where('status', '=', 'pending')
        .execute();
    }
    await recordAudit(trx, caller, {
      action: 'referral.review',
      resourceType: 'referral_attribution',
      resourceId: attributionId,
      before: { status: row.status, flagReason: row.flagReason },
      after: { status, decision: input.decision },
      reason: input.note,
    });
    return toAttribution(updated);
  });
}
