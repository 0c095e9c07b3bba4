import { describe, expect, it } from 'vitest';
import { seedVocabulary } from '../golden/seed-vocabulary.ts';
import type { ParsedQuery, SearchVocabulary } from '../parsed-query.ts';
import { DEFAULT_PRICE_THRESHOLDS, needsLlm, parseQuery } from './index.ts';

const vocabulary = seedVocabulary();
// Monday 2026-11-23, 10:00 in New York.
const MONDAY = new Date('2026-11-23T15:00:00Z');

function parse(text: string, now: Date = MONDAY, options: { timeZone?: string; vocabulary?: SearchVocabulary } = {}): ParsedQuery {
  return parseQuery(text, {
    vocabulary: options.vocabulary ?? vocabulary,
    now,
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
  });
}

function window(parsed: ParsedQuery): string | null {
  const format = (minute: number): string => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
  return parsed.timeWindow ? `${format(parsed.timeWindow.startMinute)}-${format(parsed.timeWindow.endMinute)}` : null;
}

describe('price', () => {
  it.each([
    ['piano under $50', 5000, null],
    ['piano under 50', 5000, null],
    ['piano under $45.50', 4550, null],
    ['piano $60 or less', 6000, null],
    ['piano 80 or less', 8000, null],
    ['piano max $80', 8000, null],
    ['piano $80 max', 8000, null],
    ['piano less than $50/hr', 5000, null],
    ['piano no more than 70 dollars an hour', 7000, null],
    ['piano $60-$90', 9000, 6000],
    ['piano between $60 and $90 per hour', 9000, 6000],
    ['piano over $100', null, 10000],
    ['piano $120+', null, 12000],
    ['piano around $70', 7000, null],
  ])('%j → max %j, min %j', (query, max, min) => {
    const parsed = parse(query);
    expect(parsed.maxPriceCents).toBe(max);
    expect(parsed.minPriceCents).toBe(min);
    expect(parsed.serviceSlug).toBe('piano');
  });

  it.each([
    // An age or a duration after "under N" is not a budget.
    ['math tutor for kids under 50 year old'],
    ['swim lessons under 10'],
    ['chess for kids under 10'],
    ['lessons under 2 hours'],
    ['lessons under 30 minutes'],
    ['tutor for adults over 50'],
    ['piano for my 8 year old'],
  ])('%j has no price', (query) => {
    const parsed = parse(query);
    expect(parsed.maxPriceCents).toBeNull();
    expect(parsed.minPriceCents).toBeNull();
  });

  it.each([
    ['cheap piano', 'budget', 6000, null],
    ['budget friendly piano', 'budget', 6000, null],
    ['not too expensive piano', 'budget', 6000, null],
    ['affordable piano', 'budget', 8000, null],
    ['cheap sat prep', 'budget', 9000, null],
    ['affordable public speaking coach', 'budget', 9000, null],
    ['cheap lessons', 'budget', 6000, null],
    ['premium piano', 'premium', null, 15000],
    ['luxury spanish tutor', 'premium', null, 12000],
    ['high end sat tutor', 'premium', null, 20000],
    ['top piano teacher', 'premium', null, 15000],
  ])('%j → %s through the category thresholds', (query, intent, max, min) => {
    const parsed = parse(query);
    expect(parsed.priceIntent).toBe(intent);
    expect(parsed.maxPriceCents).toBe(max);
    expect(parsed.minPriceCents).toBe(min);
  });

  it('reads "top rated" as quality, not price', () => {
    const parsed = parse('top rated piano teacher');
    expect(parsed.priceIntent).toBeNull();
    expect(parsed.minPriceCents).toBeNull();
    expect(parsed.serviceSlug).toBe('piano');
  });

  it('lets an explicit amount win over a price word', () => {
    const parsed = parse('cheap guitar lessons under $50');
    expect(parsed.maxPriceCents).toBe(5000);
    expect(parsed.priceIntent).toBeNull();
  });

  it("uses the vocabulary's own thresholds before the defaults", () => {
    const tuned: SearchVocabulary = {
      ...vocabulary,
      priceThresholds: { ...DEFAULT_PRICE_THRESHOLDS, music: { budgetMaxCents: 5500, affordableMaxCents: 7000, premiumMinCents: 20000 } },
    };
    expect(parse('cheap piano', MONDAY, { vocabulary: tuned }).maxPriceCents).toBe(5500);
    expect(parse('premium violin', MONDAY, { vocabulary: tuned }).minPriceCents).toBe(20000);
    expect(parse('cheap spanish', MONDAY, { vocabulary: tuned }).maxPriceCents).toBe(6000);
  });
});

describe('audience', () => {
  it.each([
    ['piano for my 8 year old', 'kids', 8],
    ['piano for my 12 year old', 'kids', 12],
    ['piano for a 13 year old', 'teens', 13],
    ['piano for my 17 yr old', 'teens', 17],
    ['piano for an 18 year old', 'adults', 18],
    ['guitar for my 15 year old son', 'teens', 15],
    ['piano for my 7yo', 'kids', 7],
    ['piano for my 4-year-old', 'kids', 4],
    ['piano for an eight year old', 'kids', 8],
    ['piano for my kid, she is 10', 'kids', 10],
    ["piano for my twins, they're 6", 'kids', 6],
    ['calculus for my college freshman', 'adults', null],
    ['piano for 5 year olds', 'kids', 5],
    ['piano age 9', 'kids', 9],
    ['piano for my son', 'kids', null],
    ['piano for my daughter', 'kids', null],
    ['swim lessons for my toddler', 'kids', null],
    ['piano for kids under 10', 'kids', null],
    ['reading for a 2nd grader', 'kids', null],
    ['math for my 10th grader', 'teens', null],
    ['math for my teenage daughter', 'teens', null],
    ['math for high schoolers', 'teens', null],
    ['math for high school seniors', 'teens', null],
    ['piano for adults', 'adults', null],
    ['yoga for seniors', 'adults', null],
    ['french for my husband', 'adults', null],
    ['piano lessons', null, null],
  ])('%j → %s (age %j)', (query, audience, age) => {
    const parsed = parse(query);
    expect(parsed.audience).toBe(audience);
    expect(parsed.age).toBe(age);
  });
});

describe('time of day', () => {
  it.each([
    ['piano in the morning', '06:00-12:00'],
    ['piano in the afternoon', '12:00-17:00'],
    ['piano afternoons', '12:00-17:00'],
    ['piano in the evening', '17:00-21:00'],
    ['piano tonight', '17:00-21:00'],
    ['piano at night', '17:00-21:00'],
    ['piano at 6pm', '18:00-19:00'],
    ['piano at 6:30 pm', '18:30-19:30'],
    ['piano at 12pm', '12:00-13:00'],
    ['piano at 12am', '00:00-01:00'],
    ['piano at noon', '12:00-13:00'],
    ['piano 7pm', '19:00-20:00'],
    ['piano around 3pm', '14:00-16:00'],
    ['piano 3ish', '14:00-16:00'],
    ['piano after 5pm', '17:00-21:00'],
    ['piano after 5', '17:00-21:00'],
    ['piano after 7pm', '19:00-21:00'],
    ['piano after 8pm', '20:00-24:00'],
    ['piano before noon', '06:00-12:00'],
    ['piano before 10am', '06:00-10:00'],
    ['piano before 5am', '00:00-05:00'],
    ['piano between 3 and 5pm', '15:00-17:00'],
    ['piano 3-5pm', '15:00-17:00'],
    ['piano 11-1pm', '11:00-13:00'],
    ['piano from 10am to noon', '10:00-12:00'],
    // A bare hour: 1–7 is pm, 8–11 am, unless a period word says which.
    ['piano at 6', '18:00-19:00'],
    ['piano at 9', '09:00-10:00'],
    ['piano in the morning at 7', '07:00-08:00'],
    ['piano tonight at 8', '20:00-21:00'],
    ['piano after school', '15:00-18:00'],
    ['piano after work', '17:00-21:00'],
    ['piano early morning', '06:00-09:00'],
    ['piano for my 5 year old', null],
    ['piano after 3 lessons', null],
    ['piano lessons', null],
  ])('%j → %s', (query, expected) => {
    expect(window(parse(query))).toBe(expected);
  });

  it('takes "in the morning" before looking for a place', () => {
    const parsed = parse('piano in ues in the morning');
    expect(window(parsed)).toBe('06:00-12:00');
    expect(parsed.location).toEqual({ phrase: 'ues', nearMe: false });
  });

  it('does not read "morning" inside "morningside heights"', () => {
    const parsed = parse('piano in morningside heights');
    expect(parsed.timeWindow).toBeNull();
    expect(parsed.location?.phrase).toBe('morningside heights');
  });

  it.each([
    ['yoga tonight', '2026-11-23'],
    ['yoga this morning', '2026-11-23'],
    ['yoga this afternoon', '2026-11-23'],
    ['yoga tomorrow night', '2026-11-24'],
  ])('%j also sets the day: %s', (query, day) => {
    expect(parse(query).date).toBe(day);
  });
});

describe('dates (America/New_York)', () => {
  const SATURDAY = new Date('2026-11-28T15:00:00Z');
  const SUNDAY = new Date('2026-11-29T15:00:00Z');
  const DEC_30 = new Date('2026-12-30T15:00:00Z');

  it.each([
    ['piano today', MONDAY, '2026-11-23', '2026-11-23'],
    ['piano tomorrow', MONDAY, '2026-11-24', '2026-11-24'],
    ['piano the day after tomorrow', MONDAY, '2026-11-25', '2026-11-25'],
    // A weekday name is the next such day; today counts.
    ['piano monday', MONDAY, '2026-11-23', '2026-11-23'],
    ['piano on tuesday', MONDAY, '2026-11-24', '2026-11-24'],
    ['piano sunday', MONDAY, '2026-11-29', '2026-11-29'],
    ['piano friday', SATURDAY, '2026-12-04', '2026-12-04'],
    ['piano saturday', SATURDAY, '2026-11-28', '2026-11-28'],
    // "next <weekday>": that day of next week.
    ['piano next monday', MONDAY, '2026-11-30', '2026-11-30'],
    ['piano next friday', MONDAY, '2026-12-04', '2026-12-04'],
    ['piano next monday', SATURDAY, '2026-11-30', '2026-11-30'],
    ['piano this weekend', MONDAY, '2026-11-28', '2026-11-29'],
    ['piano next weekend', MONDAY, '2026-12-05', '2026-12-06'],
    ['piano this weekend', SATURDAY, '2026-11-28', '2026-11-29'],
    ['piano this weekend', SUNDAY, '2026-11-29', '2026-11-29'],
    ['piano next weekend', SUNDAY, '2026-12-05', '2026-12-06'],
    ['piano this week', MONDAY, '2026-11-23', '2026-11-29'],
    ['piano next week', MONDAY, '2026-11-30', '2026-12-06'],
    ['piano next week', SUNDAY, '2026-11-30', '2026-12-06'],
    ['piano in 3 days', MONDAY, '2026-11-26', '2026-11-26'],
    ['piano on the 14th', MONDAY, '2026-12-14', '2026-12-14'],
    ['piano on the 23rd', MONDAY, '2026-11-23', '2026-11-23'],
    ['piano on the 31st', MONDAY, '2026-12-31', '2026-12-31'],
    ['piano on the 5th', DEC_30, '2027-01-05', '2027-01-05'],
    ['piano dec 3', MONDAY, '2026-12-03', '2026-12-03'],
    ['piano december 3rd', MONDAY, '2026-12-03', '2026-12-03'],
    ['piano 3 december', MONDAY, '2026-12-03', '2026-12-03'],
    ['piano 12/3', MONDAY, '2026-12-03', '2026-12-03'],
    ['piano 12/3/2027', MONDAY, '2027-12-03', '2027-12-03'],
    ['piano 2026-12-03', MONDAY, '2026-12-03', '2026-12-03'],
    ['piano jan 2', DEC_30, '2027-01-02', '2027-01-02'],
    ['piano nov 20', MONDAY, '2027-11-20', '2027-11-20'],
    ['piano sat 11/28', MONDAY, '2026-11-28', '2026-11-28'],
  ])('%j at %s → %s..%s', (query, now, date, dateEnd) => {
    const parsed = parse(query, now);
    expect(parsed.date).toBe(date);
    expect(parsed.dateEnd).toBe(dateEnd);
  });

  it.each([
    // 23:30 EST on Saturday March 7; clocks spring forward at 2:00 on Sunday March 8.
    ['today', '2026-03-08T04:30:00Z', '2026-03-07'],
    ['tomorrow', '2026-03-08T04:30:00Z', '2026-03-08'],
    ['sunday', '2026-03-08T04:30:00Z', '2026-03-08'],
    // 03:30 EDT on Sunday March 8, after the jump.
    ['today', '2026-03-08T07:30:00Z', '2026-03-08'],
    ['tomorrow', '2026-03-08T07:30:00Z', '2026-03-09'],
    // 01:30 on Sunday November 1, first (EDT) and second (EST) time round.
    ['today', '2026-11-01T05:30:00Z', '2026-11-01'],
    ['today', '2026-11-01T06:30:00Z', '2026-11-01'],
    ['tomorrow', '2026-11-01T06:30:00Z', '2026-11-02'],
    // 22:00 on Monday in New York is already Tuesday in UTC.
    ['today', '2026-11-24T03:00:00Z', '2026-11-23'],
    ['monday', '2026-11-24T03:00:00Z', '2026-11-23'],
  ])('DST and zone edges: %j at %s → %s', (word, instant, day) => {
    expect(parse(`piano ${word}`, new Date(instant)).date).toBe(day);
  });

  it.each([
    ['piano on thanksgiving', MONDAY, '2026-11-26'],
    ['piano on thanksgiving', new Date('2026-11-27T15:00:00Z'), '2027-11-25'],
    ['piano christmas eve', MONDAY, '2026-12-24'],
    ['piano on new years day', MONDAY, '2027-01-01'],
    ['piano memorial day', MONDAY, '2027-05-31'],
    ['piano labor day', MONDAY, '2027-09-06'],
  ])('holiday %j at %s → %s', (query, now, day) => {
    expect(parse(query, now).date).toBe(day);
  });

  it('computes days in the zone it is given', () => {
    const lateEvening = new Date('2026-11-24T06:00:00Z');
    expect(parse('piano today', lateEvening, { timeZone: 'America/Los_Angeles' }).date).toBe('2026-11-23');
    expect(parse('piano today', lateEvening).date).toBe('2026-11-24');
  });

  it.each([
    ['sat prep', 'sat-prep', null],
    ['sat prep on saturday', 'sat-prep', '2026-11-28'],
    ['swim on sat', 'swimming', '2026-11-28'],
    ['swim sat morning', 'swimming', '2026-11-28'],
    ['sat tutor for my son', 'sat-prep', null],
  ])('tells "sat" (the test) from "sat" (Saturday): %j', (query, service, date) => {
    const parsed = parse(query);
    expect(parsed.serviceSlug).toBe(service);
    expect(parsed.date).toBe(date);
  });

  it.each([['piano for 24/7 support'], ['piano 14th street'], ['piano lessons']])('%j has no date', (query) => {
    expect(parse(query).date).toBeNull();
  });
});

describe('lesson type', () => {
  it.each([
    ['piano online', 'online'],
    ['virtual piano', 'online'],
    ['piano over zoom', 'online'],
    ['piano remotely', 'online'],
    ['in person piano', 'in_person'],
    ['in-person piano', 'in_person'],
    ['face to face piano', 'in_person'],
    ['piano at my place', 'student_location'],
    ['piano at home', 'student_location'],
    ['piano teacher who comes to my apartment', 'student_location'],
    ['piano in-home lessons', 'student_location'],
    ['piano at your studio', 'instructor_location'],
    ["piano at the teacher's studio", 'instructor_location'],
    ['piano lessons', null],
  ])('%j → %s', (query, lessonType) => {
    const parsed = parse(query);
    expect(parsed.lessonType).toBe(lessonType);
    expect(parsed.location).toBeNull();
  });
});

describe('location', () => {
  it.each([
    ['piano near me', { phrase: 'near me', nearMe: true }],
    ['piano nearby', { phrase: 'nearby', nearMe: true }],
    ['piano close to me', { phrase: 'close to me', nearMe: true }],
    ['piano in park slope', { phrase: 'park slope', nearMe: false }],
    ['piano park slope', { phrase: 'park slope', nearMe: false }],
    ['piano in park slope, brooklyn', { phrase: 'park slope', nearMe: false }],
    ['piano on the upper west side', { phrase: 'upper west side', nearMe: false }],
    ['piano upper west sid', { phrase: 'upper west side', nearMe: false }],
    ["piano in hell's kitchen", { phrase: "hell's kitchen", nearMe: false }],
    ['piano in st. george', { phrase: 'st. george', nearMe: false }],
    ['piano in bayridge', { phrase: 'bay ridge', nearMe: false }],
    ['piano near columbia university', { phrase: 'columbia university', nearMe: false }],
    ['piano near 72nd street', { phrase: '72nd street', nearMe: false }],
    ['piano in nolita for my son', { phrase: 'nolita', nearMe: false }],
    ['piano in nyc', null],
    ['tutoring in spanish', null],
    ['piano in person', null],
    ['piano in the morning', null],
  ])('%j → %j', (query, location) => {
    expect(parse(query).location).toEqual(location);
  });
});

describe('skill and urgency', () => {
  it.each([
    ['beginner piano', 'beginner'],
    ['piano for beginners', 'beginner'],
    ['piano for an absolute beginner', 'beginner'],
    ['piano, never played before', 'beginner'],
    ['first time piano', 'beginner'],
    ['novice piano', 'beginner'],
    ['intro to python', 'beginner'],
    ['new to piano', 'beginner'],
    ['intermediate piano', 'intermediate'],
    ['advanced piano', 'advanced'],
    ['pro level piano', 'advanced'],
    ['piano for an experienced player', 'advanced'],
    // The teacher's experience is not the student's level.
    ['experienced piano teacher', null],
    ['expert guitar instructor', null],
    ['piano lessons', null],
  ])('%j → %s', (query, skill) => {
    const parsed = parse(query);
    expect(parsed.skill).toBe(skill);
    expect(parsed.serviceSlug).not.toBeNull();
  });

  it.each([
    ['urgent piano teacher', 'urgent'],
    ['piano asap', 'urgent'],
    ['piano a.s.a.p.', 'urgent'],
    ['piano right now', 'urgent'],
    ['piano as soon as possible', 'urgent'],
    ['piano today', null],
  ])('%j → %s', (query, urgency) => {
    expect(parse(query).urgency).toBe(urgency);
  });
});

describe('typo correction and the service phrase', () => {
  it.each([
    ['paino lessons', 'piano', 'paino lessons', 'piano lessons'],
    ['spansh tutor', 'spanish', 'spansh', 'spanish'],
    ['gutiar', 'guitar', 'gutiar', 'guitar'],
    ['violen teacher', 'violin', 'violen', 'violin'],
  ])('%j → %s (corrects %j to %j)', (query, service, from, to) => {
    const parsed = parse(query);
    expect(parsed.serviceSlug).toBe(service);
    expect(parsed.corrections).toContainEqual({ from, to });
  });

  it.each([
    ['piano in the east village', 'east village'],
    ['looking for cooking classes', 'cooking'],
    ['same time as last week', null],
    ['yoga classes', 'yoga'],
  ])('leaves correct words alone: %j', (query, phrase) => {
    const parsed = parse(query);
    expect(parsed.corrections).toEqual([]);
    if (phrase) expect(parsed.normalized).toContain(phrase);
  });

  it.each([
    ['i want piano lessons', 'piano', null, 'piano lessons'],
    ['looking for a spanish tutor', 'spanish', null, 'spanish tutor'],
    ['find me a math tutor', 'math', null, 'math tutor'],
    ['music lessons', null, 'music', 'music lessons'],
    ['a tutor', null, 'tutoring', 'tutor'],
    ['guitarist for my son', 'guitar', null, 'guitarist'],
    ['mathematics tutor', 'math', null, 'mathematics tutor'],
    ['rock and roll guitar', 'guitar', null, 'rock and roll guitar'],
    ['lessons for my son', null, null, null],
    ['near me tomorrow', null, null, null],
  ])('%j → service %s, category %s, phrase %j', (query, service, category, phrase) => {
    const parsed = parse(query);
    expect(parsed.serviceSlug).toBe(service);
    expect(parsed.categorySlug).toBe(category);
    expect(parsed.servicePhrase).toBe(phrase);
    expect(parsed.source).toBe('regex');
  });

  it('keeps the normalized query (lower case, typos corrected)', () => {
    expect(parse('  Cheap   PAINO lessons!! ').normalized).toBe('cheap piano lessons');
  });

  it('is surer of a clean query than of one with words it could not place', () => {
    const clean = parse('piano lessons for my 8 year old');
    const murky = parse('piano lessons with quirky blorps and frobs');
    const nothing = parse('');
    expect(clean.confidence).toBeGreaterThan(0.9);
    expect(murky.confidence).toBeLessThan(clean.confidence);
    expect(murky.leftoverWords).toEqual(['quirky', 'blorps', 'frobs']);
    expect(nothing.confidence).toBe(0);
  });
});

describe('needsLlm', () => {
  it.each([
    ['piano or guitar', ['conditional', 'several_services']],
    ['either piano lessons on monday', ['conditional']],
    ['piano lessons if possible tomorrow', ['conditional']],
    ['piano unless it is expensive', ['conditional']],
    ['piano and guitar', ['several_services']],
    ['piano also violin', ['several_services']],
    ['piano plus theory', ['several_services']],
    ['piano and dance lessons', ['several_services']],
    ['piano and songwriting', ['several_services']],
    ['same piano teacher as last time', ['history']],
    ['book guitar again', ['history']],
    ['my previous tutor', ['history']],
    ['blorp frob quux zing wibble wobble snark', ['many_leftover_words']],
  ])('%j → %j', (query, reasons) => {
    const parsed = parse(query);
    expect(needsLlm(parsed)).toBe(true);
    expect([...parsed.llmReasons].sort()).toEqual([...reasons].sort());
  });

  it.each([
    ['rock and roll guitar'],
    ['salsa and bachata'],
    ['piano $60 or less'],
    ['piano lessons for my son and daughter'],
    ['chemistry tutor for the ap exam'],
    ['blorp frob quux zing wibble wobble'],
    ['piano lessons'],
  ])('%j is handled by the fast path', (query) => {
    const parsed = parse(query);
    expect(needsLlm(parsed)).toBe(false);
    expect(parsed.llmReasons).toEqual([]);
  });
});
