/**
 * Instructor platform-fee tiers (spec/payments.md §Amounts), as pure rules. No I/O: the queries
 * gather the facts, `evaluateTier` decides, and the caller persists the decision.
 *
 * The ladder, by completed lessons whose lesson ended in the last 30 days:
 *   0–4 → 15% (the entry tier) · 5–10 → 12% · 11+ → 10%.
 * The policy names "1–4 → 15%"; an instructor with no lesson in the window earns the entry tier
 * too (there is nothing below it), but see the drop rules for how fast they get there.
 * Founding instructors pay 8% for life and are never evaluated.
 *
 * How an evaluation moves the tier (what a careful operator wants: no flapping, no surprise
 * double drops, explainable to the instructor in one sentence each):
 * 1. **Rises are immediate.** When the window earns a better tier, the instructor gets it at this
 *    evaluation, all the steps at once (15% → 10% directly with 11 lessons).
 * 2. **Drops are one step, and a reached tier is kept at least 30 days.** When the window earns a
 *    worse tier, the tier drops by exactly one step — but only if the current tier was set at
 *    least 30 days ago (`TIER_HOLD_DAYS`). Otherwise it is held until then. So every drop is
 *    judged on a full 30-day window at the current tier, and a 10% instructor whose volume
 *    collapses pays 12% for at least 30 days before 15%. Evaluating daily does not speed this up.
 * 3. **"0 lessons in the last 30 days but fewer than 90 days since the last one"** is simply a
 *    window that earns the entry tier: rule 2 applies (at most one step down per 30 days, never
 *    more). A break does not keep the tier forever, and teaching one lesson in a slow month is
 *    never worse than teaching none (both earn the entry tier under the same drop rule).
 * 4. **90 days without a completed lesson resets to the entry tier** (15%) at once, whatever the
 *    tier and however recently it was set: "without lessons" is measured from the end of the
 *    last completed lesson; exactly 90 days counts. An instructor who never taught is measured
 *    from when their tier was last set.
 *
 * Boundaries: a lesson counts while `now − endsAt < 30 days` (exactly 30 days old no longer
 * counts); a drop is allowed when `now − tierSetAt ≥ 30 days`; a reset when `now − lastLessonAt
 * ≥ 90 days`. `tierSetAt` (persisted as instructor_profiles.tier_evaluated_at, "when it was
 * set") changes only when the tier changes.
 */

const DAY_MS = 86_400_000;

/** The entry tier: where every instructor starts and where 90 idle days bring them back. */
export const ENTRY_TIER_FEE_BPS = 1500;
/** Founding instructors: 8% for life, immune to tier changes. */
export const FOUNDING_FEE_BPS = 800;
/** The tier ladder from entry (index 0) to best; one step = one index. */
export const TIER_LADDER = [
  { feeBps: 1500, minLessons: 0 },
  { feeBps: 1200, minLessons: 5 },
  { feeBps: 1000, minLessons: 11 },
] as const;
export type TierFeeBps = (typeof TIER_LADDER)[number]['feeBps'];

/** Completed lessons in this many days decide the earned tier. */
export const TIER_WINDOW_DAYS = 30;
/** A tier is kept at least this long before it may drop one step. */
export const TIER_HOLD_DAYS = 30;
/** This long without a completed lesson resets the tier to entry. */
export const INACTIVITY_RESET_DAYS = 90;

export const TIER_WINDOW_MS = TIER_WINDOW_DAYS * DAY_MS;
export const TIER_HOLD_MS = TIER_HOLD_DAYS * DAY_MS;
export const INACTIVITY_RESET_MS = INACTIVITY_RESET_DAYS * DAY_MS;

/** The tier a window of completed lessons earns, by itself (before the drop rules). */
export function earnedTierFeeBps(completedLessonsInWindow: number): TierFeeBps {
  let earned: TierFeeBps = ENTRY_TIER_FEE_BPS;
  for (const tier of TIER_LADDER) if (completedLessonsInWindow >= tier.minLessons) earned = tier.feeBps;
  return earned;
}

function ladderIndex(feeBps: number): number {
  return TIER_LADDER.findIndex((tier) => tier.feeBps === feeBps);
}

export interface TierFacts {
  /** The persisted tier rate (instructor_profiles.tier_fee_bps). */
  currentFeeBps: number;
  /** When the persisted tier was set (instructor_profiles.tier_evaluated_at); null: never. */
  tierSetAt: Date | null;
  /** End of the last completed lesson at or before `now`; null: never taught. */
  lastLessonAt: Date | null;
  /** Completed lessons with `now − 30 days < endsAt ≤ now`. */
  completedLessonsInWindow: number;
  isFounding: boolean;
  now: Date;
}

export type TierChange =
  /** Founding: 8%, never evaluated. */
  | 'founding'
  /** The window earns the current tier. */
  | 'unchanged'
  /** Better tier earned: applied at once. */
  | 'rise'
  /** Worse tier earned, current tier held ≥ 30 days: one step down. */
  | 'drop'
  /** Worse tier earned but the current tier is younger than 30 days: kept for now. */
  | 'held'
  /** 90 days without a completed lesson: back to entry. */
  | 'reset'
  /** The stored rate is not on the ladder (data from elsewhere): set to what the window earns. */
  | 'normalized';

export interface TierDecision {
  /** The rate to charge from now on. */
  feeBps: number;
  change: TierChange;
  /** The tier the window earns by itself. */
  earnedFeeBps: TierFeeBps;
  /** When the resulting tier was set (now, if it changed). */
  tierSetAt: Date | null;
  /** For `held`: the first instant a drop may happen. */
  dropNotBefore: Date | null;
  /** One sentence for the audit record and the instructor's earnings page. */
  reason: string;
}

const pct = (bps: number) => `${bps / 100}%`;

/**
 * Decides an instructor's tier at `now` from the facts (see the module comment for the rules).
 * Pure and total: every input gives a decision; persisting it is the caller's job.
 */
export function evaluateTier(facts: TierFacts): TierDecision {
  const { currentFeeBps, tierSetAt, lastLessonAt, completedLessonsInWindow, now } = facts;
  const earned = earnedTierFeeBps(completedLessonsInWindow);
  const lessons = `${completedLessonsInWindow} completed lesson${completedLessonsInWindow === 1 ? '' : 's'} in the last ${TIER_WINDOW_DAYS} days`;
  const same = { earnedFeeBps: earned, dropNotBefore: null };
  if (facts.isFounding) {
    return {
      ...same,
      feeBps: FOUNDING_FEE_BPS,
      change: 'founding',
      tierSetAt,
      reason: `Founding instructor: ${pct(FOUNDING_FEE_BPS)} for life.`,
    };
  }
  const nowMs = now.getTime();
  const current = ladderIndex(currentFeeBps);
  if (current < 0) {
    return {
      ...same,
      feeBps: earned,
      change: 'normalized',
      tierSetAt: now,
      reason: `Rate ${pct(currentFeeBps)} is not a tier; set to ${pct(earned)} (${lessons}).`,
    };
  }

  const idleSince = lastLessonAt ?? tierSetAt;
  if (idleSince && nowMs - idleSince.getTime() >= INACTIVITY_RESET_MS && completedLessonsInWindow === 0) {
    if (currentFeeBps === ENTRY_TIER_FEE_BPS)
      return { ...same, feeBps: currentFeeBps, change: 'unchanged', tierSetAt, reason: `Entry tier ${pct(currentFeeBps)}; ${lessons}.` };
    return {
      ...same,
      feeBps: ENTRY_TIER_FEE_BPS,
      change: 'reset',
      tierSetAt: now,
      reason: `${INACTIVITY_RESET_DAYS} days without a completed lesson: reset from ${pct(currentFeeBps)} to the entry tier ${pct(ENTRY_TIER_FEE_BPS)}.`,
    };
  }

  const target = ladderIndex(earned);
  if (target > current) {
    return {
      ...same,
      feeBps: earned,
      change: 'rise',
      tierSetAt: now,
      reason: `${lessons}: up from ${pct(currentFeeBps)} to ${pct(earned)}.`,
    };
  }
  if (target === current)
    return { ...same, feeBps: currentFeeBps, change: 'unchanged', tierSetAt, reason: `${lessons}: tier ${pct(currentFeeBps)}.` };

  const dropAllowedAtMs = tierSetAt === null ? nowMs : tierSetAt.getTime() + TIER_HOLD_MS;
  if (nowMs < dropAllowedAtMs) {
    return {
      ...same,
      feeBps: currentFeeBps,
      change: 'held',
      tierSetAt,
      dropNotBefore: new Date(dropAllowedAtMs),
      reason: `${lessons} earns ${pct(earned)}, but a tier is kept ${TIER_HOLD_DAYS} days: ${pct(currentFeeBps)} until at least ${new Date(dropAllowedAtMs).toISOString()}.`,
    };
  }
  const oneStepDown = TIER_LADDER[current - 1]?.feeBps ?? ENTRY_TIER_FEE_BPS;
  return {
    ...same,
    feeBps: oneStepDown,
    change: 'drop',
    tierSetAt: now,
    reason: `${lessons} earns ${pct(earned)}; a tier drops one step at a time: from ${pct(currentFeeBps)} to ${pct(oneStepDown)}.`,
  };
}
