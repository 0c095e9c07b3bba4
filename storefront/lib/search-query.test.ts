import { describe, expect, it } from 'vitest';
import { readSearchQuery } from './search-query.ts';

describe('readSearchQuery', () => {
  it.each([
    [undefined, ''],
    ['', ''],
    ['piano', 'piano'],
    ['  Spanish for kids ', 'Spanish for kids'],
    [['SAT math', 'chess'], 'SAT math'],
    [[], ''],
  ])('%j → %j', (q, expected) => {
    expect(readSearchQuery(q)).toBe(expected);
  });
});
