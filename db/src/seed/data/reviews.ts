/** Short review comments by rating; {service} and {first} (the instructor's first name) are filled in. */
export const REVIEW_COMMENTS: Record<1 | 2 | 3 | 4 | 5, readonly string[]> = {
  5: [
    '{first} is fantastic. My daughter looks forward to {service} every week.',
    'Best {service} lesson I have had. Clear, patient and fun.',
    'Incredibly knowledgeable and encouraging. Already booked the next one!',
    '{first} tailored the whole lesson to what I wanted to work on. Highly recommend.',
    'Punctual, prepared and great with kids.',
    'I finally understand what I was doing wrong. Thank you {first}!',
    'Warm, professional and really good at explaining things.',
    'Huge progress in just a few sessions.',
    'Exactly what I was looking for. Five stars.',
    'Made a nervous beginner feel completely at ease.',
  ],
  4: [
    'Great lesson, a few minutes late but made up the time.',
    'Very helpful. Would like a bit more homework between sessions.',
    '{first} knows {service} inside out. Good pace overall.',
    'Solid lesson, we covered a lot.',
    'Really good, my son enjoyed it. Scheduling was easy.',
  ],
  3: ['Okay lesson. Felt a little generic for my level.', 'Nice person, but the lesson lacked structure.', 'Fine, though it started late.'],
  2: ['Arrived 20 minutes late and rushed the lesson.', 'Not a good fit for a complete beginner.'],
  1: ['Instructor seemed unprepared. Would not book again.', 'Lesson was cut short without explanation.'],
};

/** [rating, weight]: mostly 4–5 stars, as on real marketplaces. */
export const RATING_WEIGHTS: readonly (readonly [1 | 2 | 3 | 4 | 5, number])[] = [
  [5, 62],
  [4, 26],
  [3, 7],
  [2, 3],
  [1, 2],
];
