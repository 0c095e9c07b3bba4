import type { LessonTypeFilter } from '../parsed-query.ts';
import { consume, type WorkingText } from './working-text.ts';

const HOME = String.raw`(?:place|home|house|apartment|apt|flat|building|office)`;

const PATTERNS: ReadonlyArray<readonly [LessonTypeFilter, RegExp]> = [
  [
    'student_location',
    new RegExp(
      String.raw`\b(?:(?:at|in|to)\s(?:my|our)\s${HOME}|at home|in home|home lessons?|house calls?|home visits?|(?:who\s)?(?:can\s)?(?:comes?|travels?|come over)\s(?:to\s)?(?:me|us|my\s${HOME}|our\s${HOME})|comes? over)\b`,
    ),
  ],
  [
    'instructor_location',
    new RegExp(
      String.raw`\b(?:at\s(?:your|their|his|her|the|a|an)\s(?:own\s)?(?:studio|${HOME})|at\s(?:the\s)?(?:teachers?|instructors?|tutors?|coachs?)\s(?:studio|${HOME})|in\s(?:a|your|their|the)\sstudio|at\sa\sstudio|studio\s(?:lessons?|classes|sessions?))\b`,
    ),
  ],
  ['in_person', /\b(?:in person|face to face|irl|in real life|not online)\b/],
  [
    'online',
    /\b(?:online|virtual(?:ly)?|(?:over|on|via|by)\s(?:zoom|facetime|skype|video|google meet)|zoom|facetime|skype|google meet|remote(?:ly)?|video (?:call|chat|lessons?)|webcam)\b/,
  ],
];

/**
 * Takes the lesson format out of the text: online (virtual, zoom, remote…), in person, at the
 * student's place ("at my place", "at home", "comes to me") or at the instructor's ("at your
 * studio"). The first format the list recognises wins; all of them are removed.
 */
export function extractLessonType(work: WorkingText): LessonTypeFilter | null {
  let found: LessonTypeFilter | null = null;
  for (const [lessonType, pattern] of PATTERNS) {
    consume(work, pattern, () => {
      found ??= lessonType;
      return true;
    });
  }
  return found;
}
