/**
 * Word lists the parser relies on. They are English query words, not catalog data (the catalog
 * and region names come from the SearchVocabulary).
 */

/** Function words: never part of a service phrase, never corrected, never "meaningful". */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a an the and or but nor so of for to in on at by with from into onto about as is are be been being was were am ' +
    'it its this that these those there here my our your his her their me us him them i we you he she they someone ' +
    'somebody anyone anybody something who whom whose which what where when how why can could would should will ' +
    'shall may might must do does did dont doesnt cant wont im ive id ill also plus just really very please some ' +
    'any all each every more most much many few lot lots like than then too up out over off again if unless either ' +
    'not no yes well who whos thats go going get got give ok okay hi hey thanks thank'
  ).split(' '),
);

/** Words of asking ("i want", "looking for", "find me"): dropped from the readable service phrase. */
export const INTENT_WORDS: ReadonlySet<string> = new Set(
  (
    'want wants wanted need needs needed looking look find finding search searching show book booking hire hiring ' +
    'learn learning learns teach teaches teaching taught help helps take taking try trying interested wanna gonna ' +
    'would like love start starting improve practice practise get recommend suggest available availability'
  ).split(' '),
);

/** Nouns that name "a lesson" or "a teacher" of something: kept in the readable phrase, ignored for matching. */
export const SERVICE_NOUNS: ReadonlySet<string> = new Set(
  (
    'lesson lessons class classes teacher teachers tutor tutors tutoring instructor instructors coach coaches ' +
    'coaching session sessions course courses private privately training trainer trainers mentor mentors ' +
    'program programs'
  ).split(' '),
);

/**
 * Words about the instructor's qualities ("patient", "experienced teacher"): the search cannot
 * filter on them, and they are not a failure to understand either.
 */
export const QUALITY_WORDS: ReadonlySet<string> = new Set(
  (
    'good great best nice kind patient friendly fun experienced expert professional qualified certified licensed ' +
    'native speaker speakers top rated highly reviewed recommended reliable amazing awesome excellent fantastic ' +
    'female male woman man speaking bilingual one 1 on pro'
  ).split(' '),
);

/** Words any extractor recognises; they are never "corrected" into a catalog word. */
export const KEYWORDS: readonly string[] = (
  'under below less max maximum most budget cheap cheapest cheaper inexpensive affordable reasonable reasonably priced ' +
  'premium luxury high end top tier notch elite upscale expensive dollars dollar bucks hour hourly hr per over above ' +
  'least minimum between kids kid child children childrens toddler toddlers baby babies son sons daughter daughters ' +
  'boy boys girl girls teen teens teenager teenagers teenage tween tweens adult adults grown ups grownups senior ' +
  'seniors retiree retirees college student students school high schooler schoolers elementary preschool preschooler ' +
  'year years old yo yr yrs age aged ages morning mornings afternoon afternoons evening evenings tonight night nights ' +
  'weeknight weeknights noon midday midnight lunch lunchtime after before around about until till early late am pm ' +
  'today tomorrow day week weekend weekends weekday weekdays monday tuesday wednesday thursday friday saturday sunday ' +
  'mondays tuesdays wednesdays thursdays fridays saturdays sundays january february march april june july august ' +
  'september october november december online virtual virtually zoom remote remotely video person face home house ' +
  'place apartment studio near nearby close local locally area neighborhood beginner beginners beginning novice ' +
  'first time never played intermediate advanced experienced expert urgent urgently asap right now immediately ' +
  'emergency wife husband mom mother dad father partner myself family families kiddo kiddos lessons lesson teacher ' +
  'tutor instructor coach private someone looking want need find help learn'
).split(' ');

/**
 * Everyday words seen in lesson searches. They are never "corrected" into a catalog word
 * ("last" must not become "lsat", "looking" not "cooking").
 */
export const COMMON_WORDS: readonly string[] = (
  'time times last same week month year day hour hours minute minutes people person student child friend friends family group ' +
  'class course music song songs sing dance game sport team test exam grade job interview wedding party birthday gift present ' +
  'fun easy hard quick fast slow long short free trial first second next past soon later other another new young big small ' +
  'little better improve prepare ready preparation audition auditions recital concert performance technique skills skill ' +
  'basic level city park street avenue ave area far walk train subway bus car drive driving run bike cook bake paint draw ' +
  'write photo camera phone computer laptop app schedule flexible weekly monthly regularly regular ongoing once twice package ' +
  'price prices cost costs rate rates pay paid money cash card discount deal offer plan plans anything everything nothing type ' +
  'style jazz rock roll pop blues classical folk country rap opera musical theatre theater broadway band orchestra choir ' +
  'play plays playing player players played speak speaking talk read write writer make making take give know think come ' +
  'coming went love loves like likes help helping teacher teaching tutoring mom son kid boy girl baby wife husband ' +
  'session sessions week weeks days months years instructor near based located speaks fluent conversation grammar ' +
  'homework essay essays exam exams math science history english reading writing art craft crafts knit knitting ' +
  'surf surfing ski skiing golf soccer football baseball hockey volleyball climbing skating skateboarding horse riding ' +
  'acting act actor improv comedy film video editing design drawing guitarist violinist pianist drummer singer dancer ' +
  'coach trainer therapist therapy speech reader writer mathematics calculus algebra physics chemistry biology ' +
  'available open slot slots spot spots opening openings booking book booked cancel reschedule again usual previous ' +
  'lessons classes private group semi own either both neither whether each while during within without'
).split(' ');

const NUMBER_WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
  'twenty',
];

/** "eight" → 8, "8" → 8; null for anything else. */
export function numberFromWord(word: string): number | null {
  if (/^\d+$/.test(word)) return Number(word);
  const index = NUMBER_WORDS.indexOf(word);
  return index >= 0 ? index : null;
}

/** RegExp source matching a small number written in digits or words. */
export const NUMBER_SOURCE = `(?:\\d{1,3}|${NUMBER_WORDS.slice(1).join('|')})`;

/**
 * A light stem so "drum" meets "drums" and "classes" meets "class": applied to both the query and
 * the vocabulary, so it only has to be consistent, not linguistically right.
 */
export function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && /(?:ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}
