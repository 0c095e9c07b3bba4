import type { LocationType } from './services.ts';
import type { WeeklyHours } from './schedules.ts';

/**
 * The accounts of the original platform's demo, kept so people who knew it can log in as before.
 * Every demo user (these and the generated ones) has this password. Demo data only: it is never
 * loaded into PROD (cli.ts refuses).
 */
export const DEMO_PASSWORD = 'Test1234';

export interface DemoInstructor {
  email: string;
  firstName: string;
  lastName: string;
  neighborhood: string;
  serviceAreas: readonly string[];
  yearsExperience: number;
  languages: readonly string[];
  bio: string;
  studioStreet: string;
  services: readonly {
    slug: string;
    hourlyRateDollars: number;
    durations: readonly number[];
    locationTypes: readonly LocationType[];
    description: string;
  }[];
  weeklyHours: WeeklyHours;
}

export interface DemoStudent {
  email: string;
  firstName: string;
  lastName: string;
  neighborhood: string;
  street: string;
}

export const DEMO_ADMIN = { email: 'admin@example.com', firstName: 'Avery', lastName: 'Admin' } as const;

const at = (hour: number, minute = 0) => hour * 60 + minute;

export const DEMO_SARAH: DemoInstructor = {
  email: 'sarah.chen@example.com',
  firstName: 'Sarah',
  lastName: 'Chen',
  neighborhood: 'upper-west-side',
  serviceAreas: ['upper-west-side', 'upper-east-side', 'morningside-heights', 'midtown', 'hells-kitchen', 'harlem'],
  yearsExperience: 12,
  languages: ['en', 'zh'],
  bio:
    'Juilliard-trained pianist with 12 years of teaching on the Upper West Side. I teach classical ' +
    'technique, sight-reading and the pop songs my students ask for, and prepare students for RCM ' +
    'exams and recitals. Lessons in my studio near Riverside Park, at your home, or online.',
  studioStreet: '312 W 84th St',
  services: [
    {
      slug: 'piano',
      hourlyRateDollars: 120,
      durations: [30, 45, 60, 90],
      locationTypes: ['student_location', 'instructor_location', 'online'],
      description: 'Classical and contemporary piano for all ages and levels',
    },
    {
      slug: 'music-theory',
      hourlyRateDollars: 100,
      durations: [45, 60],
      locationTypes: ['online', 'instructor_location'],
      description: 'Theory and ear training for RCM and AP Music Theory',
    },
  ],
  weeklyHours: {
    1: [[at(9), at(20)]],
    2: [[at(9), at(20)]],
    3: [[at(9), at(20)]],
    4: [[at(9), at(20)]],
    5: [[at(9), at(18)]],
    6: [[at(10), at(16)]],
    7: [],
  },
};

export const DEMO_MICHAEL: DemoInstructor = {
  email: 'michael.rodriguez@example.com',
  firstName: 'Michael',
  lastName: 'Rodriguez',
  neighborhood: 'park-slope',
  serviceAreas: [
    'park-slope',
    'prospect-heights',
    'carroll-gardens',
    'cobble-hill',
    'brooklyn-heights',
    'fort-greene',
    'dumbo',
    'williamsburg',
  ],
  yearsExperience: 9,
  languages: ['en', 'es'],
  bio:
    'Brooklyn guitarist and native Spanish speaker. I have played in bands across the city for a ' +
    'decade and taught guitar and Spanish for nine years — rock, folk and flamenco on guitar, and ' +
    'conversation-first Spanish for travellers, families and heritage speakers.',
  studioStreet: '418 7th Ave',
  services: [
    {
      slug: 'guitar',
      hourlyRateDollars: 95,
      durations: [30, 45, 60],
      locationTypes: ['student_location', 'instructor_location', 'online'],
      description: 'Acoustic and electric guitar: songs from day one, solid technique',
    },
    {
      slug: 'spanish',
      hourlyRateDollars: 85,
      durations: [45, 60, 90],
      locationTypes: ['online', 'student_location', 'neutral_location'],
      description: 'Conversational Spanish with a native speaker from Puerto Rico',
    },
  ],
  weeklyHours: {
    1: [[at(10), at(21)]],
    2: [[at(10), at(21)]],
    3: [[at(10), at(21)]],
    4: [[at(10), at(21)]],
    5: [[at(10), at(21)]],
    6: [[at(10), at(18)]],
    7: [],
  },
};

export const DEMO_JOHN: DemoStudent = {
  email: 'john.smith@example.com',
  firstName: 'John',
  lastName: 'Smith',
  neighborhood: 'upper-west-side',
  street: 'W 86th St',
};

export const DEMO_EMMA: DemoStudent = {
  email: 'emma.johnson@example.com',
  firstName: 'Emma',
  lastName: 'Johnson',
  neighborhood: 'park-slope',
  street: 'Garfield Pl',
};
