import { stem } from './lexicon.ts';
import { editDistance, trigramSimilarity } from './similarity.ts';
import type { CorrectionTarget, VocabularyIndex } from './vocabulary-index.ts';

/** Below this pg_trgm similarity a multi-word window is too different to be a typo of a phrase. */
export const PHRASE_SIMILARITY_THRESHOLD = 0.45;
/** A single word needs this pg_trgm similarity when its edit distance alone does not qualify it. */
export const WORD_SIMILARITY_THRESHOLD = 0.5;

function isCorrectable(word: string): boolean {
  return /^[a-z]+$/.test(word);
}

function allowedEdits(word: string, inPhrase: boolean): number {
  if (word.length >= 8) return 2;
  // Inside a phrase the other words vouch for the match ("uppr west side").
  if (word.length >= 5 || (inPhrase && word.length === 4)) return 1;
  return 0;
}

function isSwapOfNeighbours(word: string, target: string): boolean {
  if (word.length !== target.length) return false;
  const differing: number[] = [];
  for (let index = 0; index < word.length; index += 1) if (word[index] !== target[index]) differing.push(index);
  const [first, second] = differing;
  return (
    differing.length === 2 &&
    first !== undefined &&
    second === first + 1 &&
    word[first] === target[second] &&
    word[second] === target[first]
  );
}

/**
 * How far an unknown word is from a vocabulary word, or null when it is not a plausible typo of
 * it: one edit for 5–7 letters, two from 8 letters (first letter kept, since people rarely mistype
 * it), a swap of two neighbours from 4 letters, or a clear trigram match.
 */
function wordTypoDistance(word: string, target: string, inPhrase: boolean, allowPrefix: boolean): number | null {
  if (word === target || stem(word) === stem(target)) return 0;
  if (allowPrefix && word.length >= 3 && target.startsWith(word) && target.length - word.length <= 2) return 1;
  if (word.length >= 4 && isSwapOfNeighbours(word, target)) return 1;
  const budget = allowedEdits(word, inPhrase);
  if (budget === 0 || Math.abs(word.length - target.length) > budget) return null;
  const distance = editDistance(word, target);
  if (distance <= budget && word[0] === target[0]) return distance;
  if (distance <= budget + 1 && trigramSimilarity(word, target) >= WORD_SIMILARITY_THRESHOLD) return distance;
  return null;
}

interface Candidate {
  target: CorrectionTarget;
  distance: number;
  similarity: number;
}

function bestCandidate(window: readonly string[], index: VocabularyIndex): Candidate | null {
  const isPhrase = window.length > 1;
  let best: Candidate | null = null;
  let tied = false;
  for (const target of index.correctionTargets) {
    if (target.words.length !== window.length) continue;
    let distance = 0;
    let plausible = true;
    for (let position = 0; position < window.length && plausible; position += 1) {
      const word = window[position] ?? '';
      const targetWord = target.words[position] ?? '';
      if (word === targetWord) continue;
      // Only unknown words are typos; "east village" must never become "west village".
      if (!isCorrectable(word) || index.knownWords.has(word)) {
        plausible = false;
        continue;
      }
      const wordDistance = wordTypoDistance(word, targetWord, isPhrase, isPhrase && position === window.length - 1);
      if (wordDistance === null) plausible = false;
      else distance += wordDistance;
    }
    if (!plausible || distance === 0) continue;
    const joined = window.join(' ');
    const targetText = target.words.join(' ');
    const similarity = trigramSimilarity(joined, targetText);
    if (isPhrase && similarity < PHRASE_SIMILARITY_THRESHOLD) continue;
    if (!best || distance < best.distance || (distance === best.distance && similarity > best.similarity)) {
      best = { target, distance, similarity };
      tied = false;
    } else if (distance === best.distance && similarity === best.similarity && targetText !== best.target.words.join(' ')) {
      tied = true;
    }
  }
  return tied ? null : best;
}

/**
 * Corrects typos of catalog, region and query words in a normalized text ("paino" → "piano",
 * "upper west sid" → "upper west side"). Longer windows are tried first so a phrase is corrected
 * as a whole; words the parser already knows are never changed.
 */
export function correctTypos(text: string, index: VocabularyIndex): { text: string; corrections: Array<{ from: string; to: string }> } {
  const words = text.split(' ').filter((word) => word.length > 0);
  const corrections: Array<{ from: string; to: string }> = [];
  const output: string[] = [];
  let position = 0;
  while (position < words.length) {
    const word = words[position] ?? '';
    // "bayridge" is "bay ridge" with the space left out.
    const joined = isCorrectable(word) && !index.knownWords.has(word) ? index.joinedTargets.get(word) : undefined;
    if (joined) {
      corrections.push({ from: word, to: joined });
      output.push(joined);
      position += 1;
      continue;
    }
    let advanced = false;
    for (let size = Math.min(4, words.length - position); size >= 1 && !advanced; size -= 1) {
      const window = words.slice(position, position + size);
      if (!window.some((word) => isCorrectable(word) && !index.knownWords.has(word))) continue;
      const candidate = bestCandidate(window, index);
      if (!candidate) continue;
      const from = window.join(' ');
      const to = candidate.target.words.join(' ');
      corrections.push({ from, to });
      output.push(to);
      position += size;
      advanced = true;
    }
    if (!advanced) {
      output.push(words[position] ?? '');
      position += 1;
    }
  }
  return { text: output.join(' '), corrections };
}
