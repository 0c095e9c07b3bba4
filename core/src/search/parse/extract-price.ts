import { consume, textAfter, type WorkingText } from './working-text.ts';

export type PriceWord = 'budget' | 'affordable' | 'premium';

export interface PriceResult {
  maxPriceCents: number | null;
  minPriceCents: number | null;
  /** A price word, resolved later through the category's thresholds (the category is known last). */
  priceWord: PriceWord | null;
}

/**
 * No private lesson costs less than this per hour, so a bare "under 10" is an age ("kids under
 * 10"), not a budget. With a "$" or "dollars" the amount is taken as written.
 */
export const SMALLEST_BARE_PRICE = 20;

const NUMBER = String.raw`\d{1,4}(?:\.\d{1,2})?`;
const RATE_UNIT = String.raw`(?:hr|hrs|hour|h|lesson|session|class)`;
// Trailing words that make an amount a price ("/hr", "per hour", "dollars an hour", "bucks").
const RATE = String.raw`(?:\s?(?:\/|per|an|a|each)\s?${RATE_UNIT}\b|\s?hourly\b|\s?(?:dollars?|bucks|usd)\b)*`;
const NOT_A_PRICE_NEXT =
  /^\s*(?:years?|yrs?|yo|olds?|months?|mos?|mins?|minutes?|hours?|hrs?|weeks?|days?|kids?|children|people|students?|am|pm|th|st|nd|rd|grade|graders?|lbs?|pounds|miles?|mi|km|blocks?|minute)\b/;

function isCurrency(currency: string | undefined, rate: string | undefined): boolean {
  return Boolean(currency) || /[a-z/]/.test(rate ?? '');
}

function toCents(amount: string): number {
  return Math.round(Number(amount) * 100);
}

/**
 * Takes explicit budgets ("under $50", "$60 or less", "max $80", "less than $50/hr",
 * "between $60 and $90", "over $100") and price words (cheap, affordable, premium…) out of the
 * text. "under N" without a currency counts only when N is a plausible rate and the next word is
 * not an age or a unit ("under 50 year old" is not a price).
 */
export function extractPrice(work: WorkingText): PriceResult {
  const result: PriceResult = { maxPriceCents: null, minPriceCents: null, priceWord: null };
  const setMax = (cents: number): void => {
    if (result.maxPriceCents === null) result.maxPriceCents = cents;
  };
  const setMin = (cents: number): void => {
    if (result.minPriceCents === null) result.minPriceCents = cents;
  };

  // "between $60 and $90", "$60-$90/hr", "$60 to 90"
  consume(
    work,
    new RegExp(
      String.raw`(?<![\w.$])(?:between\s)?(?<c1>\$)?\s?(?<n1>${NUMBER})\s?(?<c2>\$)?\s?(?:-|to|and)\s?(?<c3>\$)?\s?(?<n2>${NUMBER})(?<rate>${RATE})`,
    ),
    (match) => {
      const groups = match.groups ?? {};
      if (!groups.c1 && !groups.c2 && !groups.c3 && !/[a-z/]/.test(groups.rate ?? '')) return false;
      const low = toCents(groups.n1 ?? '0');
      const high = toCents(groups.n2 ?? '0');
      if (high <= low) return false;
      setMin(low);
      setMax(high);
      return true;
    },
  );

  // "under $50", "max 80", "less than $50/hr", "my budget is $70", "< $60"
  consume(
    work,
    new RegExp(
      String.raw`(?:\b(?:under|below|less than|no more than|not more than|at most|max(?:imum)?|up to|within|cheaper than|lower than|(?:my\s)?budget(?:\s(?:is|of))?(?:\s(?:around|about))?|spend(?:ing)?(?:\sup to)?)|<)\s?(?<cur>\$)?\s?(?<n>${NUMBER})(?<cur2>\$)?(?<rate>${RATE})(?:\s?(?:max|maximum|tops)\b)?`,
    ),
    (match, text) => {
      const groups = match.groups ?? {};
      const amount = Number(groups.n);
      if (!isCurrency(groups.cur ?? groups.cur2, groups.rate)) {
        if (amount < SMALLEST_BARE_PRICE || NOT_A_PRICE_NEXT.test(textAfter(match, text))) return false;
      }
      setMax(toCents(groups.n ?? '0'));
      return true;
    },
  );

  // "$60 or less", "80 dollars max", "$75 tops"
  consume(
    work,
    new RegExp(
      String.raw`(?<![\w.])(?<cur>\$)?\s?(?<n>${NUMBER})(?<cur2>\$)?(?<rate>${RATE})\s?(?:or less|or lower|or under|or below|or cheaper|and under|and below|and less|max(?:imum)?|tops|at most|at the most)\b`,
    ),
    (match) => {
      const groups = match.groups ?? {};
      if (!isCurrency(groups.cur ?? groups.cur2, groups.rate) && Number(groups.n) < SMALLEST_BARE_PRICE) return false;
      setMax(toCents(groups.n ?? '0'));
      return true;
    },
  );

  // "over $100", "at least $120/hr", "$100+", "$150 and up"
  consume(
    work,
    new RegExp(
      String.raw`(?:\b(?:over|above|more than|at least|minimum|min|starting at)\s?(?<cur>\$)?\s?(?<n>${NUMBER})(?<rate>${RATE})|(?<![\w.])(?<cur3>\$)?\s?(?<n2>${NUMBER})(?<rate2>${RATE})\s?(?:\+|or more|and up|and above|plus)(?!\w))`,
    ),
    (match) => {
      const groups = match.groups ?? {};
      const amount = groups.n ?? groups.n2 ?? '0';
      if (!isCurrency(groups.cur ?? groups.cur3, groups.rate ?? groups.rate2)) return false;
      setMin(toCents(amount));
      return true;
    },
  );

  // A bare amount is a budget: "$60/hr", "around $70", "80 dollars an hour", "90 per hour".
  consume(
    work,
    new RegExp(
      String.raw`(?:\b(?:around|about|approximately|approx|roughly|for|at)\s)?(?:~\s?)?(?:(?<cur>\$)\s?(?<n>${NUMBER})(?<rate>${RATE})|\b(?<n2>${NUMBER})(?<rate2>\s?(?:dollars?|bucks|usd|(?:\/|per|an)\s?(?:hr|hour))\b${RATE}))`,
    ),
    (match) => {
      const groups = match.groups ?? {};
      setMax(toCents(groups.n ?? groups.n2 ?? '0'));
      return true;
    },
  );

  const takeWord = (pattern: RegExp, word: PriceWord): void =>
    consume(work, pattern, () => {
      result.priceWord ??= word;
      return true;
    });
  takeWord(
    /\b(?:not (?:too |very |that |super )?expensive|cheap(?:est|er|ly)?|budget(?: friendly)?|on a budget|inexpensive|low cost|bargain)\b/,
    'budget',
  );
  takeWord(/\b(?:affordable|reasonabl[ey](?: priced)?|fairly priced|moderately priced|mid range|mid priced)\b/, 'affordable');
  takeWord(
    /\b(?:premium|luxury|luxurious|high end|top tier|top notch|elite|upscale|expensive|top(?! rated| reviewed| ranked| rated| \d| ten| five| three))\b/,
    'premium',
  );
  if (result.maxPriceCents !== null || result.minPriceCents !== null) result.priceWord = null;
  return result;
}
