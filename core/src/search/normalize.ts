/**
 * One way to compare phrases everywhere in search: lower case, accents dropped, apostrophes
 * removed ("hell's" → "hells"), every other non-alphanumeric a space, spaces collapsed.
 * Pure and browser-safe.
 */
export function normalizePhrase(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/['’`]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** The query as analytics groups it: trimmed, lower case, single spaces (punctuation kept). */
export function normalizeQueryText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * Words that say "a lesson" rather than what the lesson is about. They never decide the service
 * ("spanish tutor" is Spanish), but alone they are not a service either.
 */
const GENERIC_WORDS = new Set([
  'lesson',
  'lessons',
  'class',
  'classes',
  'tutor',
  'tutors',
  'tutoring',
  'teacher',
  'teachers',
  'teaching',
  'instructor',
  'instructors',
  'coach',
  'coaching',
  'coaches',
  'private',
  'session',
  'sessions',
  'training',
  'trainer',
  'learn',
  'learning',
  'help',
  'with',
  'for',
  'a',
  'an',
  'the',
  'some',
  'good',
  'best',
  'great',
  'me',
  'my',
  'i',
  'want',
  'need',
  'looking',
  'find',
  'someone',
  'somebody',
  'who',
  'can',
  'to',
  'teach',
  'teaches',
  'of',
  'in',
  'on',
  'and',
]);

/** The words of a service phrase that carry meaning (generic lesson words removed). */
export function meaningfulWords(phrase: string): string[] {
  return normalizePhrase(phrase)
    .split(' ')
    .filter((word) => word.length > 0 && !GENERIC_WORDS.has(word));
}

/** Lower-case singular-ish form for loose comparisons ("languages" → "language"). */
export function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}
