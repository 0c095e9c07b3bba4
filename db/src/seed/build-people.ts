import type { MinuteRange } from './bitmap.ts';
import { BIO_BACKGROUNDS, BIO_CLOSINGS, BIO_OPENINGS } from './data/bios.ts';
import type { Borough } from './data/boroughs.ts';
import { DEMO_ADMIN, DEMO_EMMA, DEMO_JOHN, DEMO_MICHAEL, DEMO_SARAH, type DemoInstructor, type DemoStudent } from './data/demo-accounts.ts';
import { FIRST_NAMES, LAST_NAMES } from './data/people.ts';
import { WEEKLY_PATTERNS, type WeeklyHours } from './data/schedules.ts';
import type { LocationType } from './data/services.ts';
import { distanceKm, isInsidePolygon, type LngLat, offsetPoint, roundCoordinate } from './geometry.ts';
import {
  type Address,
  type CatalogService,
  formatAddress,
  DAY_MS,
  HOUR_MS,
  type Instructor,
  MINUTE_MS,
  type Neighborhood,
  type OfferedService,
  type SeedRows,
  servicePhrase,
  type Student,
  toPoint,
  ZONE,
} from './model.ts';
import { FOUNDING_FEE_BPS } from './money.ts';
import type { Random } from './random.ts';

export const GENERATED_INSTRUCTORS = 208;
export const GENERATED_STUDENTS = 118;
export const FOUNDING_INSTRUCTORS = 20;

type PeopleRows = Pick<
  SeedRows,
  'users' | 'userRoles' | 'instructorProfiles' | 'instructorServices' | 'instructorServiceAreas' | 'userAddresses'
>;

export interface People {
  rows: PeopleRows;
  adminId: string;
  instructors: Instructor[];
  students: Student[];
}

interface PeopleContext {
  rng: Random;
  nextId: () => string;
  neighborhoods: Neighborhood[];
  services: CatalogService[];
  passwordHash: string;
  /** Local midnight of the seed day: account dates are measured back from it. */
  anchor: Date;
  rows: PeopleRows;
  usedEmails: Set<string>;
}

const BOROUGH_WEIGHTS: readonly (readonly [Borough, number])[] = [
  ['Manhattan', 40],
  ['Brooklyn', 32],
  ['Queens', 16],
  ['Bronx', 7],
  ['Staten Island', 5],
];
const AREA_CODES = ['212', '646', '917', '718', '347', '929'];
const IN_PERSON: readonly LocationType[] = ['student_location', 'instructor_location', 'neutral_location'];
const DURATION_SETS: readonly (readonly [number[], number])[] = [
  [[60], 3],
  [[45, 60], 2],
  [[30, 45, 60], 2],
  [[60, 90], 2],
  [[30, 60], 2],
  [[45, 60, 90], 1],
  [[30, 45, 60, 90], 1],
];
const LANGUAGE_CODES: Record<string, string> = {
  spanish: 'es',
  french: 'fr',
  mandarin: 'zh',
  italian: 'it',
  japanese: 'ja',
  german: 'de',
  korean: 'ko',
  portuguese: 'pt',
  arabic: 'ar',
  russian: 'ru',
  asl: 'ase',
  hebrew: 'he',
};
const WORK_NEIGHBORHOODS = ['midtown', 'financial-district', 'flatiron', 'downtown-brooklyn', 'long-island-city'];

/**
 * Every demo person: the admin, the original platform's accounts, ~200 instructors with profiles,
 * services and service areas, and ~120 students with home addresses.
 */
export function buildPeople(
  rng: Random,
  nextId: () => string,
  input: { neighborhoods: Neighborhood[]; services: CatalogService[]; passwordHash: string; anchor: Date },
): People {
  const context: PeopleContext = {
    rng,
    nextId,
    ...input,
    rows: { users: [], userRoles: [], instructorProfiles: [], instructorServices: [], instructorServiceAreas: [], userAddresses: [] },
    usedEmails: new Set([DEMO_ADMIN.email, DEMO_SARAH.email, DEMO_MICHAEL.email, DEMO_JOHN.email, DEMO_EMMA.email]),
  };

  const adminCreatedAt = daysBefore(context, 900);
  const adminId = addUser(context, { ...DEMO_ADMIN, createdAt: adminCreatedAt, role: 'admin', grantedBy: null });

  // Founding instructors joined first, in founding-number order; sarah is #1 and michael #2.
  const foundingDates = Array.from({ length: FOUNDING_INSTRUCTORS }, (_, index) => daysBefore(context, 720 - index * 18 - rng.int(0, 12)));
  const sarah = addDemoInstructor(context, DEMO_SARAH, 'sarah', adminId, foundingDates[0] as Date, 1);
  const michael = addDemoInstructor(context, DEMO_MICHAEL, 'michael', adminId, foundingDates[1] as Date, 2);
  const john = addDemoStudent(context, DEMO_JOHN, 'john');
  const emma = addDemoStudent(context, DEMO_EMMA, 'emma');

  const generated: Instructor[] = [];
  const foundingSlots = new Set(
    rng.sample(
      Array.from({ length: GENERATED_INSTRUCTORS }, (_, index) => index),
      40,
    ),
  );
  let nextFoundingNumber = 3;
  for (let index = 0; index < GENERATED_INSTRUCTORS; index++) {
    const isLive = rng.chance(0.93);
    const founding =
      isLive && foundingSlots.has(index) && nextFoundingNumber <= FOUNDING_INSTRUCTORS
        ? { number: nextFoundingNumber, grantedAt: foundingDates[nextFoundingNumber - 1] as Date }
        : null;
    if (founding) nextFoundingNumber++;
    generated.push(addGeneratedInstructor(context, adminId, isLive, founding));
  }

  const students: Student[] = [john, emma];
  for (let index = 0; index < GENERATED_STUDENTS; index++) students.push(addGeneratedStudent(context));

  return { rows: context.rows, adminId, instructors: [sarah, michael, ...generated], students };
}

// ---------------------------------------------------------------------------------------------
// users

function addUser(
  context: PeopleContext,
  person: { email: string; firstName: string; lastName: string; createdAt: Date; role: string; grantedBy: string | null },
): string {
  const { rng } = context;
  const id = context.nextId();
  const hasPhone = rng.chance(person.role === 'student' ? 0.6 : 0.85);
  const emailVerifiedAt = new Date(person.createdAt.getTime() + rng.int(2, 180) * MINUTE_MS);
  const lastLoginAt = new Date(context.anchor.getTime() - rng.int(0, 25) * DAY_MS - rng.int(60, 900) * MINUTE_MS);
  context.rows.users.push({
    id,
    email: person.email,
    emailVerifiedAt,
    passwordHash: context.passwordHash,
    firstName: person.firstName,
    lastName: person.lastName,
    phone: hasPhone ? `+1${rng.pick(AREA_CODES)}5550${rng.int(100, 199)}` : null,
    phoneVerifiedAt: hasPhone ? new Date(emailVerifiedAt.getTime() + rng.int(1, 60) * MINUTE_MS) : null,
    timezone: ZONE,
    status: 'active',
    lastLoginAt,
    lastActiveAt: new Date(lastLoginAt.getTime() + rng.int(1, 50) * MINUTE_MS),
    createdAt: person.createdAt,
    updatedAt: emailVerifiedAt,
  });
  context.rows.userRoles.push({ userId: id, role: person.role, grantedAt: person.createdAt, grantedBy: person.grantedBy });
  return id;
}

function uniqueEmail(context: PeopleContext, firstName: string, lastName: string): string {
  const local = `${firstName}.${lastName}`.toLowerCase().replace(/[^a-z.]/g, '');
  for (let suffix = 1; ; suffix++) {
    const email = `${local}${suffix === 1 ? '' : suffix}@example.com`;
    if (!context.usedEmails.has(email)) {
      context.usedEmails.add(email);
      return email;
    }
  }
}

/** An instant `days` before the anchor, at a daytime hour that varies. */
function daysBefore(context: PeopleContext, days: number): Date {
  return new Date(context.anchor.getTime() - days * DAY_MS + context.rng.int(8 * 60, 22 * 60) * MINUTE_MS);
}

// ---------------------------------------------------------------------------------------------
// places

function pickHome(context: PeopleContext): Neighborhood {
  const borough = context.rng.weighted(BOROUGH_WEIGHTS);
  return context.rng.pick(context.neighborhoods.filter((neighborhood) => neighborhood.borough === borough));
}

function neighborhoodBySlug(context: PeopleContext, slug: string): Neighborhood {
  const found = context.neighborhoods.find((neighborhood) => neighborhood.data.slug === slug);
  if (!found) throw new Error(`unknown neighborhood ${slug}`);
  return found;
}

/** A point well inside the neighborhood (at least ~30 m from its outline), rounded as stored. */
export function randomPointIn(rng: Random, neighborhood: Neighborhood): LngLat {
  const reach = Math.min(...neighborhood.outline.map((vertex) => distanceKm(vertex, neighborhood.center)));
  for (let attempt = 0; attempt < 100; attempt++) {
    const candidate = offsetPoint(neighborhood.center, Math.sqrt(rng.next()) * reach * 0.8, rng.next() * 2 * Math.PI);
    const point = { lng: roundCoordinate(candidate.lng), lat: roundCoordinate(candidate.lat) };
    const margin = [0, 1, 2, 3].map((quarter) => offsetPoint(point, 0.03, (quarter * Math.PI) / 2));
    if ([point, ...margin].every((probe) => isInsidePolygon(probe, neighborhood.outline))) return point;
  }
  return neighborhood.center;
}

function randomAddress(context: PeopleContext, neighborhood: Neighborhood, street?: string): Address {
  const { rng } = context;
  return {
    line1: `${rng.int(1, 480)} ${street ?? rng.pick(neighborhood.data.streets)}`,
    line2: rng.chance(0.6) ? `Apt ${rng.int(1, 12)}${rng.pick(['A', 'B', 'C', 'D', 'E', 'F'])}` : null,
    city: neighborhood.postalCity,
    postalCode: rng.pick(neighborhood.data.postalCodes),
    point: randomPointIn(rng, neighborhood),
    neighborhood,
  };
}

function addAddress(context: PeopleContext, userId: string, label: string, address: Address, isDefault: boolean, createdAt: Date): void {
  context.rows.userAddresses.push({
    id: context.nextId(),
    userId,
    label,
    line1: address.line1,
    line2: address.line2,
    city: address.city,
    state: 'NY',
    postalCode: address.postalCode,
    location: toPoint(address.point),
    regionId: address.neighborhood.id,
    isDefault,
    createdAt,
  });
}

/** The home neighborhood and the `count` − 1 nearest others. */
function nearestNeighborhoods(context: PeopleContext, home: Neighborhood, count: number): Neighborhood[] {
  return [...context.neighborhoods].sort((a, b) => distanceKm(a.center, home.center) - distanceKm(b.center, home.center)).slice(0, count);
}

// ---------------------------------------------------------------------------------------------
// instructors

function addDemoInstructor(
  context: PeopleContext,
  demo: DemoInstructor,
  demoKey: 'sarah' | 'michael',
  adminId: string,
  foundingGrantedAt: Date,
  foundingNumber: number,
): Instructor {
  const createdAt = new Date(foundingGrantedAt.getTime() - 3 * DAY_MS);
  const userId = addUser(context, { ...demo, createdAt, role: 'instructor', grantedBy: adminId });
  const home = neighborhoodBySlug(context, demo.neighborhood);
  const offered = demo.services.map((offer): OfferedService => {
    const service = context.services.find((candidate) => candidate.data.slug === offer.slug);
    if (!service) throw new Error(`unknown service ${offer.slug}`);
    return {
      id: context.nextId(),
      service,
      hourlyRateCents: offer.hourlyRateDollars * 100,
      durations: [...offer.durations],
      locationTypes: [...offer.locationTypes],
    };
  });
  const instructor: Instructor = {
    userId,
    firstName: demo.firstName,
    lastName: demo.lastName,
    home,
    serviceAreas: demo.serviceAreas.map((slug) => neighborhoodBySlug(context, slug)),
    studio: { ...randomAddress(context, home), line1: demo.studioStreet, line2: null },
    offered,
    tierFeeBps: FOUNDING_FEE_BPS,
    isFounding: true,
    isLive: true,
    weeklyHours: demo.weeklyHours,
    demoKey,
  };
  addInstructorRows(context, instructor, {
    bio: demo.bio,
    yearsExperience: demo.yearsExperience,
    languages: [...demo.languages],
    createdAt,
    founding: { number: foundingNumber, grantedAt: foundingGrantedAt },
    stripeAccount: true,
    descriptions: demo.services.map((offer) => offer.description),
  });
  return instructor;
}

function addGeneratedInstructor(
  context: PeopleContext,
  adminId: string,
  isLive: boolean,
  founding: { number: number; grantedAt: Date } | null,
): Instructor {
  const { rng } = context;
  const firstName = rng.pick(FIRST_NAMES);
  const lastName = rng.pick(LAST_NAMES);
  const createdAt = founding ? new Date(founding.grantedAt.getTime() - rng.int(1, 10) * DAY_MS) : daysBefore(context, rng.int(90, 680));
  const userId = addUser(context, {
    email: uniqueEmail(context, firstName, lastName),
    firstName,
    lastName,
    createdAt,
    role: 'instructor',
    grantedBy: adminId,
  });
  const home = pickHome(context);

  const primary = rng.weighted(context.services.map((service) => [service, service.data.popularity] as const));
  const chosen = [primary];
  const extraCount = rng.weighted([
    [0, 45],
    [1, 40],
    [2, 15],
  ] as const);
  for (let attempt = 0; chosen.length < 1 + extraCount && attempt < 20; attempt++) {
    const pool = rng.chance(0.65)
      ? context.services.filter((service) => service.data.category === primary.data.category)
      : context.services;
    const candidate = rng.pick(pool);
    if (!chosen.includes(candidate)) chosen.push(candidate);
  }
  const offered = chosen.map((service) => makeOffer(context, service));
  const needsStudio = offered.some((offer) => offer.locationTypes.includes('instructor_location'));
  const tierFeeBps = founding
    ? FOUNDING_FEE_BPS
    : rng.weighted([
        [1500, 50],
        [1200, 30],
        [1000, 20],
      ] as const);

  const instructor: Instructor = {
    userId,
    firstName,
    lastName,
    home,
    serviceAreas: nearestNeighborhoods(context, home, rng.int(2, 8)),
    studio: needsStudio ? randomAddress(context, home) : null,
    offered,
    tierFeeBps,
    isFounding: founding !== null,
    isLive,
    weeklyHours: varyWeeklyHours(rng, rng.weighted(WEEKLY_PATTERNS.map((pattern) => [pattern.hours, pattern.weight] as const))),
    demoKey: null,
  };
  const years = rng.int(1, 25);
  const languages = ['en'];
  for (const service of chosen) {
    const code = LANGUAGE_CODES[service.data.slug];
    if (code && !languages.includes(code)) languages.push(code);
  }
  if (!languages.includes('es') && rng.chance(0.15)) languages.push('es');
  addInstructorRows(context, instructor, {
    bio: composeBio(rng, primary, years, home),
    yearsExperience: years,
    languages,
    createdAt,
    founding,
    stripeAccount: founding !== null ? rng.chance(0.6) : rng.chance(0.08),
    descriptions: chosen.map((service) => rng.pick(service.data.listings)),
  });
  return instructor;
}

function makeOffer(context: PeopleContext, service: CatalogService): OfferedService {
  const { rng } = context;
  const allowed = service.data.locationTypes;
  let locationTypes = allowed.filter(() => rng.chance(0.6));
  if (locationTypes.length === 0) locationTypes = [rng.pick(allowed)];
  // Price floors per 60 minutes: in person $80, online $60 (booking rules).
  const floorDollars = locationTypes.some((type) => IN_PERSON.includes(type)) ? 80 : 60;
  const [low, high] = service.data.rateDollars;
  const dollars = Math.max(floorDollars, Math.round(rng.int(low, high) / 5) * 5);
  return {
    id: context.nextId(),
    service,
    hourlyRateCents: dollars * 100,
    durations: [...rng.weighted(DURATION_SETS)],
    locationTypes: [...locationTypes],
  };
}

function composeBio(rng: Random, service: CatalogService, years: number, home: Neighborhood): string {
  const category = service.data.category;
  const openings = BIO_OPENINGS[category] ?? BIO_OPENINGS.tutoring ?? [];
  const backgrounds = [...(BIO_BACKGROUNDS[category] ?? []), ...(BIO_BACKGROUNDS.general ?? [])];
  return [rng.pick(openings), rng.pick(backgrounds), rng.pick(BIO_CLOSINGS)]
    .join(' ')
    .replaceAll('{service}', servicePhrase(service.data))
    .replaceAll('{years}', String(years))
    .replaceAll('{neighborhood}', home.name);
}

/** A preset week, shifted by up to an hour at either end and sometimes with a day off. */
function varyWeeklyHours(rng: Random, hours: WeeklyHours): WeeklyHours {
  const startShift = rng.pick([-60, -30, 0, 0, 30, 60]);
  const endShift = rng.pick([-60, -30, 0, 0, 30, 60]);
  const dayOff = rng.chance(0.3) ? rng.int(1, 7) : 0;
  const vary = (day: 1 | 2 | 3 | 4 | 5 | 6 | 7): MinuteRange[] => {
    if (day === dayOff) return [];
    const shifted = hours[day]
      .map(([start, end]): MinuteRange => [Math.max(7 * 60, start + startShift), Math.min(22 * 60, end + endShift)])
      .filter(([start, end]) => end - start >= 60);
    return mergeRanges(shifted);
  };
  return { 1: vary(1), 2: vary(2), 3: vary(3), 4: vary(4), 5: vary(5), 6: vary(6), 7: vary(7) };
}

function mergeRanges(ranges: MinuteRange[]): MinuteRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

function addInstructorRows(
  context: PeopleContext,
  instructor: Instructor,
  details: {
    bio: string;
    yearsExperience: number;
    languages: string[];
    createdAt: Date;
    founding: { number: number; grantedAt: Date } | null;
    stripeAccount: boolean;
    descriptions: string[];
  },
): void {
  const { rng, anchor } = context;
  const { createdAt } = details;
  const after = (days: number) => new Date(createdAt.getTime() + days * DAY_MS + rng.int(0, 600) * MINUTE_MS);
  const review = instructor.isLive
    ? { verificationStatus: 'verified', backgroundCheckStatus: 'passed' }
    : rng.weighted([
        [{ verificationStatus: 'pending', backgroundCheckStatus: 'pending' }, 4],
        [{ verificationStatus: 'unverified', backgroundCheckStatus: 'not_started' }, 3],
        [{ verificationStatus: 'verified', backgroundCheckStatus: 'pending' }, 2],
        [{ verificationStatus: 'rejected', backgroundCheckStatus: 'failed' }, 1],
      ] as const);
  const profileCompletedAt = instructor.isLive || rng.chance(0.5) ? after(rng.int(1, 5)) : null;

  context.rows.instructorProfiles.push({
    userId: instructor.userId,
    bio: details.bio,
    photoUrl: null,
    yearsExperience: details.yearsExperience,
    languages: details.languages,
    studioAddress: instructor.studio ? formatAddress(instructor.studio) : null,
    studioLocation: instructor.studio ? toPoint(instructor.studio.point) : null,
    verificationStatus: review.verificationStatus,
    identityVerifiedAt: review.verificationStatus === 'verified' ? after(rng.int(1, 7)) : null,
    backgroundCheckStatus: review.backgroundCheckStatus,
    backgroundCheckCompletedAt: ['passed', 'failed'].includes(review.backgroundCheckStatus) ? after(rng.int(3, 14)) : null,
    isFounding: details.founding !== null,
    foundingNumber: details.founding?.number ?? null,
    foundingGrantedAt: details.founding?.grantedAt ?? null,
    stripeAccountId: details.stripeAccount ? `acct_demo${randomToken(rng, 14)}` : null,
    payoutsEnabled: details.stripeAccount,
    tierFeeBps: instructor.tierFeeBps,
    tierEvaluatedAt: new Date(anchor.getTime() - rng.int(1, 30) * DAY_MS + 3 * HOUR_MS),
    lastLessonAt: null,
    responseRate: (rng.int(780, 1000) / 1000).toFixed(3),
    profileCompletedAt,
    isLive: instructor.isLive,
    createdAt,
    updatedAt: profileCompletedAt ?? createdAt,
  });

  instructor.offered.forEach((offer, index) => {
    const data = offer.service.data;
    const audiences = data.audiences.filter(() => rng.chance(0.85));
    const skillLevels = data.skillLevels.filter(() => rng.chance(0.85));
    const offeredAt = after(index === 0 ? 1 : rng.int(2, 60));
    context.rows.instructorServices.push({
      id: offer.id,
      instructorId: instructor.userId,
      serviceId: offer.service.id,
      hourlyRateCents: offer.hourlyRateCents,
      durations: offer.durations,
      locationTypes: offer.locationTypes,
      description: details.descriptions[index] ?? '',
      audiences: audiences.length > 0 ? audiences : [...data.audiences],
      skillLevels: skillLevels.length > 0 ? skillLevels : [...data.skillLevels],
      isActive: true,
      deletedAt: null,
      createdAt: offeredAt,
      updatedAt: offeredAt,
    });
  });

  for (const area of instructor.serviceAreas) {
    context.rows.instructorServiceAreas.push({ instructorId: instructor.userId, regionId: area.id });
  }
}

function randomToken(rng: Random, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length }, () => alphabet[rng.int(0, alphabet.length - 1)]).join('');
}

// ---------------------------------------------------------------------------------------------
// students

function addDemoStudent(context: PeopleContext, demo: DemoStudent, demoKey: 'john' | 'emma'): Student {
  const createdAt = daysBefore(context, demoKey === 'john' ? 400 : 320);
  const userId = addUser(context, { ...demo, createdAt, role: 'student', grantedBy: null });
  const home = randomAddress(context, neighborhoodBySlug(context, demo.neighborhood), demo.street);
  addAddress(context, userId, 'home', home, true, createdAt);
  return { userId, firstName: demo.firstName, home, demoKey };
}

function addGeneratedStudent(context: PeopleContext): Student {
  const { rng } = context;
  const firstName = rng.pick(FIRST_NAMES);
  const lastName = rng.pick(LAST_NAMES);
  const createdAt = daysBefore(context, rng.int(90, 800));
  const userId = addUser(context, {
    email: uniqueEmail(context, firstName, lastName),
    firstName,
    lastName,
    createdAt,
    role: 'student',
    grantedBy: null,
  });
  const home = randomAddress(context, pickHome(context));
  addAddress(context, userId, 'home', home, true, createdAt);
  if (rng.chance(0.2)) {
    const work = randomAddress(context, neighborhoodBySlug(context, rng.pick(WORK_NEIGHBORHOODS)));
    addAddress(
      context,
      userId,
      'work',
      { ...work, line2: `Floor ${rng.int(2, 40)}` },
      false,
      new Date(createdAt.getTime() + rng.int(1, 60) * DAY_MS),
    );
  }
  return { userId, firstName, home, demoKey: null };
}
