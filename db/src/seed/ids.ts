import { ulid } from 'ulid';
import { mulberry32 } from './random.ts';

/**
 * The time part of every demo id: a fixed instant in the past, plus one millisecond per id, so
 * demo ids sort in the order the seed made them, sort before any id the application makes later,
 * and never depend on the day the seed runs.
 */
export const SEED_ID_BASE_TIME = Date.UTC(2024, 0, 1);

/** Makes ULIDs from a fixed base time and its own PRNG stream: the same sequence on every run. */
export function createSeedIdFactory(seed: number): () => string {
  const prng = mulberry32(seed);
  let counter = 0;
  return () => ulid(SEED_ID_BASE_TIME + counter++, prng);
}
