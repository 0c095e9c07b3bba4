import { describe, expect, it } from 'vitest';
import { cardAmountCents, lessonAmounts, roundCents } from './fees.ts';
import { FOUNDING_FEE_BPS, TIER_LADDER } from './tiers.ts';

describe('lesson amounts (SF = round(12% LP), IF = round(rate × LP), P = LP − IF)', () => {
  it('matches the worked example: LP $120 at 12% → SF $14.40, IF $14.40, P $105.60', () => {
    expect(lessonAmounts(12_000, 1200)).toEqual({
      lessonPriceCents: 12_000,
      studentFeeCents: 1440,
      instructorFeeBps: 1200,
      instructorFeeCents: 1440,
      instructorPayoutCents: 10_560,
    });
  });

  it.each([
    // LP, rate, SF, IF, P — odd cents exercise half-away-from-zero rounding
    [12_000, 1500, 1440, 1800, 10_200],
    [12_000, 1000, 1440, 1200, 10_800],
    [12_000, FOUNDING_FEE_BPS, 1440, 960, 11_040],
    [12_345, 1500, 1481, 1852, 10_493], // SF 1481.4 → 1481; IF 1851.75 → 1852
    [12_345, 1200, 1481, 1481, 10_864], // 1481.4 → 1481 both
    [12_345, 1000, 1481, 1235, 11_110], // IF 1234.5 → 1235 (half away from zero)
    [12_345, FOUNDING_FEE_BPS, 1481, 988, 11_357], // 987.6 → 988
    [4_999, 1500, 600, 750, 4_249], // SF 599.88 → 600; IF 749.85 → 750
    [6_250, 1200, 750, 750, 5_500], // exact
    [6_251, 1000, 750, 625, 5_626], // SF 750.12 → 750; IF 625.1 → 625
    [8_125, FOUNDING_FEE_BPS, 975, 650, 7_475], // exact
    [1_313, 1000, 158, 131, 1_182], // SF 157.56 → 158; IF 131.3 → 131
    [4_375, 1200, 525, 525, 3_850], // exact
    [2_125, 1200, 255, 255, 1_870], // exact
    [1_125, 1000, 135, 113, 1_012], // IF 112.5 → 113
    [2_375, 1200, 285, 285, 2_090], // exact
    [3_125, 800, 375, 250, 2_875], // exact
    [5_625, 800, 675, 450, 5_175], // exact
    [7_813, 1500, 938, 1172, 6_641], // SF 937.56 → 938; IF 1171.95 → 1172
  ])('LP %i at %i bps → SF %i, IF %i, P %i', (lp, bps, sf, fee, payout) => {
    expect(lessonAmounts(lp, bps)).toMatchObject({ studentFeeCents: sf, instructorFeeCents: fee, instructorPayoutCents: payout });
  });

  it('every tier rate is on the ladder the schema allows', () => {
    expect(TIER_LADDER.map((tier) => tier.feeBps)).toEqual([1500, 1200, 1000]);
  });

  it('uses the one rounding helper: half away from zero', () => {
    expect([roundCents(0.5), roundCents(1.5), roundCents(2.5), roundCents(-0.5), roundCents(-2.5), roundCents(2.4999)]).toEqual([
      1, 2, 3, -1, -3, 2,
    ]);
  });
});

describe('card amount = (LP − credits) + SF; credits never cover SF', () => {
  const lesson = lessonAmounts(12_000, 1200);
  it.each([
    [0, 13_440],
    [2_000, 11_440],
    [12_000, 1_440],
    [15_000, 1_440], // more credit than the lesson: the fee is still paid by card
    [1, 13_439],
  ])('credits %i → card %i', (credits, card) => {
    expect(cardAmountCents(lesson, credits)).toBe(card);
  });

  it('refuses fractional or negative credits', () => {
    expect(() => cardAmountCents(lesson, -1)).toThrow();
    expect(() => cardAmountCents(lesson, 0.5)).toThrow();
  });
});
