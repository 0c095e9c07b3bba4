/** Free text that appears on demo bookings. */
export const CANCELLATION_REASONS: Record<'student' | 'instructor' | 'admin' | 'system', readonly string[]> = {
  student: [
    'Schedule conflict at work',
    'My child is sick',
    'Travelling that week',
    'Need to reschedule for exams',
    'Booked the wrong time',
    'Weather — subway delays',
  ],
  instructor: ['Illness', 'Family emergency', 'Double-booked a performance', 'Studio unavailable'],
  admin: ['Duplicate booking requested by support', 'Student account review', 'Instructor request via support'],
  system: ['Payment authorization failed (automatic cancellation at T−12h)', 'Checkout not completed in time'],
};

export const STUDENT_NOTES: readonly string[] = [
  'Complete beginner, very excited!',
  'Preparing for an audition next month.',
  'This is for my 9-year-old son.',
  'Would like to focus on conversation.',
  'Working through the school curriculum, test on Friday.',
  'Buzzer is broken, please text when you arrive.',
  'Intermediate level, took lessons as a kid.',
  'Can we review last week’s homework?',
];

export const INSTRUCTOR_NOTES: readonly string[] = [
  'Great progress on scales; next time start the new piece.',
  'Practice 15 minutes a day on the exercises we covered.',
  'Reviewed the diagnostic test; focus on timing next session.',
  'Worked on form and breathing; assigned two drills.',
  'Covered chapters 3–4, quiz next lesson.',
];

/** Public meeting places for neutral-location lessons: by service, else by category, else default. */
export const NEUTRAL_VENUES: Record<string, readonly string[]> = {
  swimming: ['NYC Parks indoor pool', 'YMCA pool'],
  tennis: ['Public tennis courts'],
  basketball: ['Neighborhood basketball court'],
  running: ['Park, main entrance', 'High school track'],
  photography: ['Meet at the subway station exit', 'Park, main entrance'],
  'sports-fitness': ['Park, main entrance', 'NYC Parks recreation center'],
  arts: ['Park, by the fountain', 'Public library, community room'],
  default: ['Public library, study room', 'Community center', 'Café near the subway'],
};
