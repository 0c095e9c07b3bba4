/**
 * One normalization for queries and vocabulary alike, so "Hell's Kitchen", "hells kitchen" and
 * "HELL’S KITCHEN" compare equal: lower case, accents and apostrophes dropped, letter-hyphen-letter
 * split into words, punctuation that carries no meaning turned into spaces. Digits keep their
 * "$", "/", ":", "." and "-" because prices, dates and times need them.
 */
export function normalizeText(text: string): string {
  return (
    text
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .replace(/[’‘`´]/g, "'")
      .replace(/[–—]/g, '-')
      .replace(/\ba\.s\.a\.p\.?/g, 'asap')
      .replace(/\b([ap])\.m\.?/g, '$1m')
      .replace(/'/g, '')
      .replace(/&/g, ' and ')
      // "y/o" is an age; any other letter/letter slash means "or" ("piano/guitar").
      .replace(/\by\/o\b/g, 'yo')
      .replace(/(\p{L})\s*\/\s*(?=\p{L}{3})(?!hr\b|hour\b)/gu, '$1 or ')
      .replace(/(\p{L})-(?=\p{L})/gu, '$1 ')
      .replace(/(\d)-(?=\p{L})/gu, '$1 ')
      .replace(/(?<!\d)\.|\.(?!\d)/g, ' ')
      .replace(/[^\p{L}\p{N}$/:.\-+~<\s]/gu, ' ')
      // Punctuation left standing alone ("piano - brooklyn") is not a word.
      .replace(/(?<=^|\s)[-/:.+~<]+(?=\s|$)/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

/** Words of a normalized text. */
export function wordsOf(text: string): string[] {
  return text.split(' ').filter((word) => word.length > 0);
}

/** Escapes a literal for use inside a RegExp. */
export function escapeRegExp(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
