import { describe, expect, it } from 'vitest';
import { editDistance, trigrams, trigramSimilarity } from './similarity.ts';

describe('trigrams (pg_trgm show_trgm)', () => {
  it.each([
    ['cat', ['  c', ' ca', 'at ', 'cat']],
    ['foo|bar', ['  b', '  f', ' ba', ' fo', 'ar ', 'bar', 'foo', 'oo ']],
    ['A', ['  a', ' a ']],
    ['', []],
  ])('%j → %j', (text, expected) => {
    expect([...trigrams(text)].sort()).toEqual([...expected].sort());
  });
});

describe('trigramSimilarity (pg_trgm similarity)', () => {
  it.each([
    // PostgreSQL documentation example: similarity('word', 'two words') = 0.363636
    ['word', 'two words', 4 / 11],
    ['piano', 'piano', 1],
    ['Piano', 'PIANO', 1],
    ['spansh', 'spanish', 0.5],
    ['upper west sid', 'upper west side', 14 / 17],
    ['paino', 'piano', 0.2],
    ['piano', '', 0],
    ['abc', 'xyz', 0],
  ])('%j vs %j', (a, b, expected) => {
    expect(trigramSimilarity(a, b)).toBeCloseTo(expected, 6);
    expect(trigramSimilarity(b, a)).toBeCloseTo(expected, 6);
  });
});

describe('editDistance (optimal string alignment)', () => {
  it.each([
    ['piano', 'piano', 0],
    ['paino', 'piano', 1],
    ['gutiar', 'guitar', 1],
    ['spansh', 'spanish', 1],
    ['tommorow', 'tomorrow', 2],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ])('%j → %j = %i', (a, b, expected) => {
    expect(editDistance(a, b)).toBe(expected);
  });
});
