import type { DB } from '@instainstru/db';
import type { Transaction } from 'kysely';
import { recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { notFound } from '../shared/errors.ts';
import { findAllTierStates, findTierState, type TierStateRow, updateTierState } from './pricing.queries.ts';
import { evaluateTier, FOUNDING_FEE_BPS, type TierChange, type TierDecision } from './tiers.ts';

/** What started an evaluation, recorded with each change. */
export type TierTrigger = 'booking' | 'daily-evaluation';

export interface InstructorTier {
  instructorId: string;
  /** The rate to snapshot on a booking made now. */
  feeBps: number;
  isFounding: boolean;
  foundingNumber: number | null;
  decision: TierDecision;
  lessonsInWindow: number;
  lastLessonAt: Date | null;
}

function lastLessonOf(state: TierStateRow, now: Date): Date | null {
  // The stored value may come from elsewhere (the seed); never trust one that lies in the future.
  const stored = state.lastLessonAt && state.lastLessonAt.getTime() <= now.getTime() ? state.lastLessonAt : null;
  if (!stored) return state.lastCompletedAt;
  if (!state.lastCompletedAt) return stored;
  return stored.getTime() >= state.lastCompletedAt.getTime() ? stored : state.lastCompletedAt;
}

/** The decision for a state, without writing anything (earnings view, previews). */
export function decideTier(state: TierStateRow, now: Date): InstructorTier {
  const lastLessonAt = lastLessonOf(state, now);
  const decision = evaluateTier({
    currentFeeBps: state.tierFeeBps,
    tierSetAt: state.tierEvaluatedAt,
    lastLessonAt,
    completedLessonsInWindow: state.lessonsInWindow,
    isFounding: state.isFounding,
    now,
  });
  return {
    instructorId: state.instructorId,
    feeBps: decision.feeBps,
    isFounding: state.isFounding,
    foundingNumber: state.foundingNumber,
    decision,
    lessonsInWindow: state.lessonsInWindow,
    lastLessonAt,
  };
}

const CHANGES: ReadonlySet<TierChange> = new Set(['rise', 'drop', 'reset', 'normalized']);

/**
 * Evaluates one instructor's tier at `now` under a row lock, persists the result (rate, when it
 * was set, last lesson) and audits a change as the system. Idempotent: a second evaluation at
 * the same instant finds nothing to change.
 */
export async function evaluateInstructorTier(
  trx: Transaction<DB>,
  instructorId: string,
  now: Date,
  trigger: TierTrigger,
): Promise<InstructorTier> {
  const state = await findTierState(trx, instructorId, now, { lock: true });
  if (!state) throw notFound('The instructor', 'instructorId');
  const tier = decideTier(state, now);
  if (state.isFounding) return tier;
  const changed = CHANGES.has(tier.decision.change);
  const lastLessonMoved = tier.lastLessonAt !== null && tier.lastLessonAt.getTime() !== state.lastLessonAt?.getTime();
  if (!changed && !lastLessonMoved) return tier;
  await updateTierState(trx, instructorId, {
    ...(changed ? { tierFeeBps: tier.feeBps, tierEvaluatedAt: tier.decision.tierSetAt } : {}),
    ...(lastLessonMoved ? { lastLessonAt: tier.lastLessonAt } : {}),
  });
  if (changed) {
    await recordAudit(trx, SYSTEM_CONTEXT, {
      action: 'pricing.tier.change',
      resourceType: 'instructor',
      resourceId: instructorId,
      before: { feeBps: state.tierFeeBps, tierSetAt: state.tierEvaluatedAt?.toISOString() ?? null },
      after: { feeBps: tier.feeBps, tierSetAt: tier.decision.tierSetAt?.toISOString() ?? null },
      reason: tier.decision.reason,
      metadata: {
        change: tier.decision.change,
        trigger,
        lessonsInWindow: tier.lessonsInWindow,
        earnedFeeBps: tier.decision.earnedFeeBps,
        lastLessonAt: tier.lastLessonAt?.toISOString() ?? null,
        evaluatedAt: now.toISOString(),
      },
    });
  }
  return tier;
}

/**
 * The platform-fee rate for a booking made with this instructor now, evaluating (and persisting)
 * the tier first so the snapshot never uses a stale rate. Founding instructors: 8%, untouched.
 * Call inside the booking's transaction.
 */
export async function instructorFeeBpsFor(
  trx: Transaction<DB>,
  instructorId: string,
  now: Date,
): Promise<{ feeBps: number; isFounding: boolean }> {
  const tier = await evaluateInstructorTier(trx, instructorId, now, 'booking');
  return { feeBps: tier.isFounding ? FOUNDING_FEE_BPS : tier.feeBps, isFounding: tier.isFounding };
}

export type TierEvaluationSummary = {
  evaluated: number;
  rose: number;
  dropped: number;
  reset: number;
  held: number;
  normalized: number;
  /** The first changes, for the job's output (the audit log has them all). */
  changes: Array<{ instructorId: string; change: TierChange; fromBps: number; toBps: number }>;
};

/**
 * The daily evaluation: reads every non-founding instructor's facts, and for each one whose tier
 * (or last lesson) would change, re-evaluates under that instructor's row lock and persists.
 * Only changing rows are locked, so bookings are not held up by the sweep.
 */
export async function evaluateAllInstructorTiers(trx: Transaction<DB>, now: Date): Promise<TierEvaluationSummary> {
  const states = await findAllTierStates(trx, now);
  const summary: TierEvaluationSummary = { evaluated: states.length, rose: 0, dropped: 0, reset: 0, held: 0, normalized: 0, changes: [] };
  for (const state of states) {
    const preview = decideTier(state, now);
    if (preview.decision.change === 'held') summary.held += 1;
    const lastLessonMoved = preview.lastLessonAt !== null && preview.lastLessonAt.getTime() !== state.lastLessonAt?.getTime();
    if (!CHANGES.has(preview.decision.change) && !lastLessonMoved) continue;
    const tier = await evaluateInstructorTier(trx, state.instructorId, now, 'daily-evaluation');
    const change = tier.decision.change;
    if (change === 'rise') summary.rose += 1;
    else if (change === 'drop') summary.dropped += 1;
    else if (change === 'reset') summary.reset += 1;
    else if (change === 'normalized') summary.normalized += 1;
    if (CHANGES.has(change) && summary.changes.length < 50) {
      summary.changes.push({ instructorId: state.instructorId, change, fromBps: state.tierFeeBps, toBps: tier.feeBps });
    }
  }
  return summary;
}
