/**
 * The query while extractors take pieces out of it. A consumed span is replaced by a boundary
 * mark so words on either side never join into a phrase ("in ues | " after "in the morning" went).
 * Time-of-day spans leave a mark of their own so the date step can tell "sat ¦" (Saturday
 * morning) from "sat prep".
 */
export interface WorkingText {
  text: string;
}

export const BOUNDARY = '|';
export const TIME_BOUNDARY = '¦';

/**
 * Runs `pattern` (made global here) over the working text and removes every match the handler
 * accepts: `true` removes the whole match, a number only that many characters from its start.
 * Matches are found on the text as it was before this call.
 */
export function consume(
  work: WorkingText,
  pattern: RegExp,
  accept: (match: RegExpExecArray, text: string) => boolean | number,
  mark: string = BOUNDARY,
): void {
  const regex = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  const source = work.text;
  const kept: Array<[number, number]> = [];
  for (let match = regex.exec(source); match !== null; match = regex.exec(source)) {
    if (match[0].length === 0) {
      regex.lastIndex += 1;
      continue;
    }
    const verdict = accept(match, source);
    if (verdict === false || verdict === 0) continue;
    kept.push([match.index, match.index + (verdict === true ? match[0].length : Math.min(verdict, match[0].length))]);
  }
  if (kept.length === 0) return;
  let result = '';
  let cursor = 0;
  for (const [start, end] of kept) {
    result += `${source.slice(cursor, start)} ${mark} `;
    cursor = end;
  }
  result += source.slice(cursor);
  work.text = result.replace(/\s+/g, ' ').trim();
}

/** The text after a match (for "what word comes next" checks). */
export function textAfter(match: RegExpExecArray, text: string): string {
  return text.slice(match.index + match[0].length);
}
