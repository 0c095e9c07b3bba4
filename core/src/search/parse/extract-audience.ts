import type { Audience } from '../parsed-query.ts';
import { NUMBER_SOURCE, numberFromWord } from './lexicon.ts';
import { consume, type WorkingText } from './working-text.ts';

export interface AudienceResult {
  audience: Audience | null;
  age: number | null;
}

/** Spec §1: under 13 is a kid, 13–17 a teen, 18 and over an adult. */
export function audienceForAge(age: number): Audience {
  if (age < 13) return 'kids';
  if (age < 18) return 'teens';
  return 'adults';
}

const ORDINALS = ['', 'first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth', 'eleventh', 'twelfth'];

/** US school grade → audience: up to 7th grade the pupil is usually under 13. */
function audienceForGrade(grade: number): Audience {
  return grade <= 7 ? 'kids' : 'teens';
}

const LEAD = String.raw`(?:\bfor\s)?(?:\b(?:my|our|a|an|the|two|2|three|3)\s)?(?:\b(?:little|young|small|lil)\s)?`;
const CHILD_NOUN = String.raw`(?:sons?|daughters?|boys?|girls?|kids?|kiddos?|child|children|twins|students?|nieces?|nephews?|grandsons?|granddaughters?)`;

/**
 * Takes who the lessons are for out of the text: an age ("for my 8 year old", "age 10", "7yo"),
 * a school grade, or a word (kids, my son, toddler, teens, high schooler, adults, seniors…).
 * An age decides over a word ("my 15 year old son" is a teen).
 */
export function extractAudience(work: WorkingText): AudienceResult {
  const result: AudienceResult = { audience: null, age: null };
  const setAge = (age: number): void => {
    if (result.age !== null || age > 99) return;
    result.age = age;
    result.audience = audienceForAge(age);
  };
  const setAudience = (audience: Audience): void => {
    result.audience ??= audience;
  };

  consume(
    work,
    new RegExp(
      String.raw`${LEAD}(?:\b${CHILD_NOUN}\s)?(?:\b(?<compare>under|below|younger than|over|above|older than)\s)?\b(?<age>${NUMBER_SOURCE})\s?(?:(?:years?|yrs?|yr)\s?olds?|yos?|years?\b(?=\s${CHILD_NOUN}))(?:\s${CHILD_NOUN})?\b`,
    ),
    (match) => {
      const age = numberFromWord(match.groups?.age ?? '');
      if (age === null) return false;
      const compare = match.groups?.compare;
      // "kids under 10 years old" is an age group, not an age.
      if (!compare) setAge(age);
      else setAudience(audienceForAge(/^(?:under|below|younger)/.test(compare) ? Math.max(0, age - 1) : age + 1));
      return true;
    },
  );
  // "my kid, he's 8", "my daughter who is 10"
  consume(
    work,
    new RegExp(
      String.raw`\b(?:(?:he|she)\s?(?:s|is)|(?:who|whos)(?:\sis)?|(?:they|who)\sare|theyre)\s(?<age>${NUMBER_SOURCE})\b(?:\s?(?:years?|yrs?)(?:\s?old)?|\s?yo)?(?!\s?(?:am|pm|dollars?|\$))`,
    ),
    (match) => {
      const age = numberFromWord(match.groups?.age ?? '');
      if (age === null) return false;
      setAge(age);
      return true;
    },
  );
  consume(
    work,
    new RegExp(String.raw`${LEAD}(?:\b${CHILD_NOUN}\s)?\b(?:aged?|ages)\s(?<age>\d{1,2})\b(?:\s(?:and|to|-)\s\d{1,2}\b)?`),
    (match) => {
      setAge(Number(match.groups?.age));
      return true;
    },
  );
  consume(
    work,
    new RegExp(
      String.raw`${LEAD}(?:\bin\s(?:the\s)?)?\b(?<grade>\d{1,2}|${ORDINALS.slice(1).join('|')})(?:st|nd|rd|th)?\s(?:grade|grader)s?\b(?:\s${CHILD_NOUN})?`,
    ),
    (match) => {
      const written = match.groups?.grade ?? '';
      const grade = /^\d+$/.test(written) ? Number(written) : ORDINALS.indexOf(written);
      if (grade < 1 || grade > 12) return false;
      setAudience(audienceForGrade(grade));
      return true;
    },
  );

  consume(
    work,
    new RegExp(
      String.raw`${LEAD}\b(?:teens?|teenagers?|teenaged?|adolescents?|high\s?school(?:ers?|\sstudents?|\skids?|\sseniors?|\sjuniors?)?|highschoolers?)\b(?:\s(?:sons?|daughters?|boys?|girls?|kids?|students?))?`,
    ),
    () => {
      setAudience('teens');
      return true;
    },
  );
  consume(
    work,
    new RegExp(
      String.raw`${LEAD}\b(?:kids?|kiddos?|child|children|childrens|toddlers?|babies|baby|preschoolers?|preschool|kindergartners?|kindergarteners?|kindergarten|youngsters?|tweens?|grade\sschoolers?|elementary(?:\sschool)?(?:ers?|\sstudents?|\skids?|\sage)?|sons?|daughters?|boys?|girls?|grandsons?|granddaughters?|grandkids|grandchildren|nieces?|nephews?|twins|triplets)\b(?:\s(?:under|below|younger than)\s\d{1,2}\b)?(?:\s(?:and|or)\s(?:my\s)?(?:sons?|daughters?|kids?|boys?|girls?)\b)?`,
    ),
    () => {
      setAudience('kids');
      return true;
    },
  );
  consume(
    work,
    new RegExp(
      String.raw`${LEAD}\b(?:adults?|grown\s?ups?|seniors?|older adults?|retirees?|college (?:students?|freshm[ae]n|sophomores?|juniors?|seniors?|kids?)|grad students?|university students?|adult learners?|professionals|wife|husband|mom|mother|dad|father|parents?|grandma|grandmother|grandpa|grandfather|boyfriend|girlfriend|partner|myself)\b(?:\s(?:over|above)\s\d{2}s?\b)?(?:\sonly\b)?`,
    ),
    () => {
      setAudience('adults');
      return true;
    },
  );
  return result;
}
