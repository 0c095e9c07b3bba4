import type { SkillLevel } from '../parsed-query.ts';
import { consume, textAfter, type WorkingText } from './working-text.ts';

// "an experienced piano teacher" describes the teacher, not the student's level.
const DESCRIBES_TEACHER =
  /^\s(?:[a-z]+\s){0,2}(?:teachers?|tutors?|instructors?|coach(?:es)?|trainers?|pianists?|guitarists?|musicians?|violinists?|singers?|dancers?|mentors?)\b/;

const PATTERNS: ReadonlyArray<readonly [SkillLevel, RegExp]> = [
  [
    'beginner',
    /\b(?:(?:an?\s)?(?:absolute|total|complete|true|adult)\s)?(?:beginners?|beginning|beginner level|novices?|first\stimers?|(?:for\s)?(?:the\s)?first\stime|never\s(?:played|done|taken|tried|sang|sung|danced|swum|learned|had|studied|spoken|played)(?:\sbefore)?|new\sto(?=\s[a-z])|just\sstart(?:ing|ed)(?:\sout)?|starting\sout|(?:starting\s)?from\sscratch|the\sbasics|basics|intro(?:ductory)?|entry\slevel|newbies?|newcomers?)\b/,
  ],
  ['intermediate', /\b(?:intermediate(?:\slevel)?|some\sexperience|mid\slevel|improvers?)\b/],
  [
    'advanced',
    /\b(?:advanced(?:\slevel)?|experienced|expert(?:\slevel)?|pro(?:\slevel)?|professional\slevel|conservatory\slevel|high\slevel)\b/,
  ],
];

/**
 * Takes the student's level out of the text: beginner (novice, first time, never played, intro…),
 * intermediate, advanced (experienced, expert, pro). "Experienced"/"expert" right before a
 * teacher word describes the instructor and is left alone.
 */
export function extractSkill(work: WorkingText): SkillLevel | null {
  let found: SkillLevel | null = null;
  for (const [skill, pattern] of PATTERNS) {
    consume(work, pattern, (match, text) => {
      if (skill === 'advanced' && /^(?:experienced|expert|pro)$/.test(match[0]) && DESCRIBES_TEACHER.test(textAfter(match, text)))
        return false;
      found ??= skill;
      return true;
    });
  }
  return found;
}

/** Urgency words: urgent, asap, right now (and their close relatives). */
export function extractUrgency(work: WorkingText): 'urgent' | null {
  let urgent = false;
  consume(work, /\b(?:urgent(?:ly)?|asap|as soon as possible|right now|right away|immediately|emergency|last minute)\b/, () => {
    urgent = true;
    return true;
  });
  return urgent ? 'urgent' : null;
}
