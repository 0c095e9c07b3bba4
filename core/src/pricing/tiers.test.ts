import { describe, expect, it } from 'vitest';
import { earnedTierFeeBps, evaluateTier, type TierFacts } from './tiers.ts';

const DAY = 86_400_000;
const NOW = new Date('2027-06-15T12:00:00Z');
const daysAgo = (days: number, extraMs = 0) => new Date(NOW.getTime() - days * DAY + extraMs);

function facts(overrides: Partial<TierFacts>): TierFacts {
  return {
    currentFeeBps: 1500,
    tierSetAt: daysAgo(200),
    lastLessonAt: daysAgo(1),
    completedLessonsInWindow: 0,
    isFounding: false,
    now: NOW,
    ...overrides,
  };
}

describe('earned tier by completed lessons in the last 30 days', () => {
  it.each([
    [0, 1500],
    [1, 1500],
    [4, 1500],
    [5, 1200],
    [10, 1200],
    [11, 1000],
    [40, 1000],
  ])('%i lessons earn %i bps', (lessons, feeBps) => {
    expect(earnedTierFeeBps(lessons)).toBe(feeBps);
  });
});

describe('evaluateTier', () => {
  describe('rises apply at once, all steps', () => {
    it.each([
      // from, lessons, to
      [1500, 4, 1500, 'unchanged'],
      [1500, 5, 1200, 'rise'],
      [1500, 10, 1200, 'rise'],
      [1500, 11, 1000, 'rise'],
      [1200, 11, 1000, 'rise'],
      [1200, 5, 1200, 'unchanged'],
      [1000, 11, 1000, 'unchanged'],
    ] as const)('%i bps with %i lessons → %i bps (%s)', (from, lessons, to, change) => {
      // A tier set yesterday: rises never wait.
      const decision = evaluateTier(facts({ currentFeeBps: from, completedLessonsInWindow: lessons, tierSetAt: daysAgo(1) }));
      expect(decision).toMatchObject({ feeBps: to, change });
      expect(decision.tierSetAt).toEqual(change === 'rise' ? NOW : daysAgo(1));
    });
  });

  describe('drops are one step per evaluation, after 30 days at the tier', () => {
    it.each([
      // from, lessons in window, to
      [1000, 10, 1200],
      [1000, 5, 1200],
      [1000, 4, 1200], // earns 15% but drops one step only
      [1000, 1, 1200],
      [1000, 0, 1200], // no lesson in 30 days, last one 40 days ago: still one step
      [1200, 4, 1500],
      [1200, 1, 1500],
      [1200, 0, 1500],
    ] as const)('%i bps with %i lessons → %i bps', (from, lessons, to) => {
      const decision = evaluateTier(
        facts({ currentFeeBps: from, completedLessonsInWindow: lessons, tierSetAt: daysAgo(30), lastLessonAt: daysAgo(lessons ? 2 : 40) }),
      );
      expect(decision).toMatchObject({ feeBps: to, change: 'drop', tierSetAt: NOW });
    });

    it('holds a tier set less than 30 days ago, and says until when', () => {
      const setAt = daysAgo(30, 1); // one millisecond short of 30 days
      const decision = evaluateTier(facts({ currentFeeBps: 1000, completedLessonsInWindow: 2, tierSetAt: setAt }));
      expect(decision).toMatchObject({ feeBps: 1000, change: 'held', earnedFeeBps: 1500, tierSetAt: setAt });
      expect(decision.dropNotBefore).toEqual(new Date(setAt.getTime() + 30 * DAY));
    });

    it('walks 10% → 12% → 15% over two 30-day periods, never faster, however often it is evaluated', () => {
      let state = { currentFeeBps: 1000, tierSetAt: daysAgo(60) as Date | null };
      const lastLessonAt = daysAgo(35);
      const seen: Array<[number, number]> = [];
      // evaluate every day for 50 days, no lessons in the window (last lesson 35 days before NOW)
      for (let day = 0; day <= 50; day++) {
        const now = new Date(NOW.getTime() + day * DAY);
        const decision = evaluateTier({ ...state, lastLessonAt, completedLessonsInWindow: 0, isFounding: false, now });
        state = { currentFeeBps: decision.feeBps, tierSetAt: decision.tierSetAt };
        if (decision.change === 'drop' || decision.change === 'reset') seen.push([day, decision.feeBps]);
      }
      // day 0: 12% (one step); day 30: 15% (30 days at 12%). The 90-day reset (day 55) is never needed.
      expect(seen).toEqual([
        [0, 1200],
        [30, 1500],
      ]);
    });

    it('an instructor never evaluated may drop one step at once', () => {
      expect(evaluateTier(facts({ currentFeeBps: 1000, tierSetAt: null, completedLessonsInWindow: 3 }))).toMatchObject({
        feeBps: 1200,
        change: 'drop',
      });
    });
  });

  describe('90 days without a completed lesson reset to the entry tier', () => {
    it('resets at exactly 90 days, from any tier, even one set recently', () => {
      for (const from of [1000, 1200]) {
        const decision = evaluateTier(
          facts({ currentFeeBps: from, lastLessonAt: daysAgo(90), tierSetAt: daysAgo(5), completedLessonsInWindow: 0 }),
        );
        expect(decision).toMatchObject({ feeBps: 1500, change: 'reset', tierSetAt: NOW });
      }
    });

    it('does not reset one millisecond before 90 days (one-step rules apply)', () => {
      const decision = evaluateTier(
        facts({ currentFeeBps: 1000, lastLessonAt: daysAgo(90, 1), tierSetAt: daysAgo(5), completedLessonsInWindow: 0 }),
      );
      expect(decision).toMatchObject({ feeBps: 1000, change: 'held' });
      const later = evaluateTier(
        facts({ currentFeeBps: 1000, lastLessonAt: daysAgo(90, 1), tierSetAt: daysAgo(45), completedLessonsInWindow: 0 }),
      );
      expect(later).toMatchObject({ feeBps: 1200, change: 'drop' });
    });

    it('leaves an entry-tier instructor as they are', () => {
      expect(evaluateTier(facts({ currentFeeBps: 1500, lastLessonAt: daysAgo(400) }))).toMatchObject({ feeBps: 1500, change: 'unchanged' });
    });

    it('measures an instructor who never taught from when the tier was set', () => {
      expect(evaluateTier(facts({ currentFeeBps: 1200, lastLessonAt: null, tierSetAt: daysAgo(90) }))).toMatchObject({
        feeBps: 1500,
        change: 'reset',
      });
      expect(evaluateTier(facts({ currentFeeBps: 1200, lastLessonAt: null, tierSetAt: daysAgo(89) }))).toMatchObject({
        feeBps: 1500,
        change: 'drop',
      });
    });
  });

  describe('founding instructors are immune', () => {
    it.each([0, 1, 4, 5, 10, 11])('8%% with %i lessons, whatever the stored tier and idle time', (lessons) => {
      for (const currentFeeBps of [800, 1000, 1500]) {
        const decision = evaluateTier(
          facts({
            isFounding: true,
            currentFeeBps,
            completedLessonsInWindow: lessons,
            lastLessonAt: daysAgo(500),
            tierSetAt: daysAgo(500),
          }),
        );
        expect(decision).toMatchObject({ feeBps: 800, change: 'founding' });
        expect(decision.tierSetAt).toEqual(daysAgo(500));
      }
    });
  });

  it('puts a rate that is not a tier back on the ladder', () => {
    expect(evaluateTier(facts({ currentFeeBps: 800, completedLessonsInWindow: 6 }))).toMatchObject({ feeBps: 1200, change: 'normalized' });
  });

  it('explains each decision in a sentence', () => {
    expect(evaluateTier(facts({ currentFeeBps: 1500, completedLessonsInWindow: 11 })).reason).toBe(
      '11 completed lessons in the last 30 days: up from 15% to 10%.',
    );
    expect(evaluateTier(facts({ currentFeeBps: 1000, completedLessonsInWindow: 1, tierSetAt: daysAgo(31) })).reason).toBe(
      '1 completed lesson in the last 30 days earns 15%; a tier drops one step at a time: from 10% to 12%.',
    );
  });
});
