import type { LocationPhrase } from '../parsed-query.ts';
import { INTENT_WORDS, KEYWORDS, QUALITY_WORDS, SERVICE_NOUNS, STOP_WORDS } from './lexicon.ts';
import { consume, type WorkingText } from './working-text.ts';
import type { VocabularyIndex } from './vocabulary-index.ts';

const NEAR_ME =
  /\b(?:near(?:by)?\s(?:me|us|my\s(?:place|home|house|apartment|apt|office|work))|close\sto\s(?:me|us|home)|around\s(?:me|here)|nearby|near\shere|close\sby|in\s(?:my|our)\s(?:area|neighborhood|neighbourhood|hood)|walking distance|local(?:ly)?)\b/;

/** "in nyc" says nothing: every instructor is in New York City. */
const WHOLE_CITY = /\b(?:(?:in|around|near)\s)?(?:nyc|new york city|new york)\b|\b(?:in|around)\s(?:ny|the city)\b/;

const PREPOSITION = String.raw`(?:in|near|around|by|close to|next to|from|at|on|off|within|inside)`;

const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

/** Nouns that make a place of the words before them, even when the catalog uses them too ("street dance"). */
const PLACE_NOUNS: ReadonlySet<string> = new Set(
  'street st avenue ave road rd boulevard blvd square sq park plaza station terminal university campus center centre building'.split(' '),
);

function isPhraseWord(word: string, index: VocabularyIndex): boolean {
  // Street numbers are part of a place ("near 72nd street").
  if (/^\d{1,3}(?:st|nd|rd|th)$/.test(word)) return true;
  if (!/^[a-z][a-z0-9]*$/.test(word)) return false;
  if (PLACE_NOUNS.has(word)) return true;
  if (STOP_WORDS.has(word) || INTENT_WORDS.has(word) || SERVICE_NOUNS.has(word) || QUALITY_WORDS.has(word) || KEYWORD_SET.has(word))
    return false;
  // A catalog word after "in" is a subject ("tutoring in spanish"), not a place.
  return index.regionWords.has(word) || !index.vocabularyWords.has(word);
}

/**
 * Takes the place out of the text: "near me"/"nearby" (the signed-in user's address), a region
 * phrase of the vocabulary (neighborhood, borough or alias — with or without "in"/"near"),
 * or an unknown phrase after "in"/"near"/"around" ("near columbia university"), kept as written
 * for the resolver. Must run after the time and lesson-type steps so "in the morning" and "in
 * person" are gone. Neighbouring region phrases ("park slope, brooklyn") are taken together and
 * the first, most specific one is kept.
 */
export function extractLocation(work: WorkingText, index: VocabularyIndex): LocationPhrase | null {
  let location: LocationPhrase | null = null;
  consume(work, NEAR_ME, (match) => {
    location ??= { phrase: match[0], nearMe: true };
    return true;
  });
  consume(work, WHOLE_CITY, () => true);

  if (index.regionAlternation) {
    const region = String.raw`(?<region>${index.regionAlternation})`;
    const follower = String.raw`(?:\s?(?:,|in|and|\/)?\s?(?:the\s)?(?:${index.regionAlternation})\b)*`;
    consume(work, new RegExp(String.raw`(?:\b${PREPOSITION}\s)?(?:the\s)?\b${region}\b${follower}`), (match) => {
      const phrase = match.groups?.region ?? '';
      location ??= { phrase: index.regions.get(phrase) ?? phrase, nearMe: false };
      return true;
    });
  }

  if (location === null) {
    consume(
      work,
      /\b(?:in|near|around|close to|next to|by)\s(?:the\s)?(?<words>(?:[a-z][a-z0-9]*|\d{1,3}(?:st|nd|rd|th))(?:\s[a-z][a-z0-9]*){0,3})/,
      (match) => {
        if (location !== null) return false;
        const words: string[] = [];
        for (const word of (match.groups?.words ?? '').split(' ')) {
          if (!isPhraseWord(word, index)) break;
          words.push(word);
        }
        if (words.length === 0) return false;
        location = { phrase: words.join(' '), nearMe: false };
        // Only the words of the phrase go; whatever followed stays for the later steps.
        return match[0].length - (match.groups?.words ?? '').length + words.join(' ').length;
      },
    );
  }
  return location;
}
