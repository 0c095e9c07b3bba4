/**
 * Pieces of instructor bios. A bio is an opening for the instructor's category, one background
 * line and one closing line; {service}, {years} and {neighborhood} are filled in.
 */
export const BIO_OPENINGS: Record<string, readonly string[]> = {
  music: [
    "I've taught {service} for {years} years and still get excited when a student plays their first full piece.",
    'Conservatory-trained {service} teacher with {years} years of private teaching in New York.',
    'Working musician and {service} teacher: I split my week between gigs and students, and each makes the other better.',
    'I teach {service} the way I wish I had been taught — technique in service of music you actually want to play.',
  ],
  languages: [
    'Native speaker and certified teacher; {years} years helping New Yorkers speak {service} with confidence.',
    'I teach {service} through conversation first, grammar second, and plenty of real-life practice.',
    'After {years} years of teaching {service} in schools and privately, I tailor every lesson to your goals.',
    'Whether it is travel, family or work, I help adults and kids get comfortable in {service} fast.',
  ],
  tutoring: [
    'Former NYC public school teacher with {years} years of one-on-one {service} tutoring.',
    'I break {service} into clear, manageable steps so students stop dreading it and start enjoying it.',
    'Patient, structured {service} tutoring for middle school through college — {years} years and counting.',
    'I studied engineering and have tutored {service} for {years} years; I love the moment it clicks.',
  ],
  'test-prep': [
    'Test prep specialist: {years} years of {service} coaching with consistent score gains.',
    'I scored in the 99th percentile and have spent {years} years teaching the strategies that got me there.',
    'Diagnostic first, then a plan: my {service} students know exactly what to practice each week.',
  ],
  'sports-fitness': [
    'Certified coach with {years} years of {service} experience, from first-timers to competitors.',
    'I make {service} approachable and fun, with a focus on good form and steady progress.',
    'Former college athlete turned coach; I have taught {service} across the five boroughs for {years} years.',
  ],
  arts: [
    'Practicing artist and teacher; {years} years of {service} lessons for all ages.',
    'My {service} lessons balance fundamentals with your own projects and style.',
    'I exhibit in Brooklyn and Manhattan galleries and have taught {service} for {years} years.',
  ],
  dance: [
    'Professional dancer with {years} years of teaching {service} privately and in studios.',
    "Whether it's your wedding or your first class, I make {service} feel natural.",
    'Trained at a New York conservatory; I have taught {service} to kids, adults and pros.',
  ],
  'life-skills': [
    'I have taught {service} for {years} years and love giving people skills they use every day.',
    'Practical, friendly {service} lessons built around your goals and schedule.',
    'Professional with {years} years in the field; now I teach {service} one-on-one.',
  ],
};

/** Background lines by category, plus `general` ones that fit anyone. */
export const BIO_BACKGROUNDS: Record<string, readonly string[]> = {
  general: [
    'I hold a degree from NYU and completed my teaching certification at Hunter College.',
    'I have a master’s degree in education from CUNY and love working with neurodivergent learners.',
    'I am background-checked, CPR certified, and experienced with students of every age.',
    'Before teaching full time I worked in tech, which shaped how I explain hard ideas simply.',
  ],
  music: [
    'I studied at the Manhattan School of Music and Juilliard Pre-College.',
    'I perform regularly around the city and bring that stage experience to every lesson.',
    'My students have been accepted to LaGuardia High School and top conservatories.',
  ],
  languages: [
    'I grew up in Queens speaking three languages at home.',
    'I lived abroad for years and have taught at language schools in Manhattan.',
  ],
  tutoring: [
    'I trained at Columbia Teachers College and taught for six years in NYC public schools.',
    'My students have gone on to specialized high schools and top colleges.',
  ],
  'test-prep': [
    'My students have gone on to Stuyvesant, Bronx Science and the Ivy League.',
    'I have written practice material for two national test-prep companies.',
  ],
  'sports-fitness': [
    'I have coached teams and private clients at gyms and parks across Manhattan and Brooklyn.',
    'I am NASM certified and have worked with athletes returning from injury.',
  ],
  arts: ['I earned my MFA at Pratt and share a studio in Bushwick.', 'I teach at a community art center and exhibit around the city.'],
  dance: [
    'I have performed off-Broadway and with companies across the city.',
    'I trained at Alvin Ailey and teach at studios in Manhattan and Brooklyn.',
  ],
  'life-skills': [
    'I trained at the Institute of Culinary Education and worked in restaurant kitchens for years.',
    'I coach professionals at companies around Midtown.',
  ],
};

export const BIO_CLOSINGS: readonly string[] = [
  'Lessons in {neighborhood} and nearby, or online.',
  'Based in {neighborhood}; happy to travel within my area.',
  'I teach from my {neighborhood} studio and online.',
  'Flexible evenings and weekends — book a first lesson and we will set goals together.',
  'Kids, teens and adults welcome; beginners especially.',
];
