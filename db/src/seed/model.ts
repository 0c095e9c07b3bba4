import type { Insertable } from 'kysely';
import type { DB } from '../schema.ts';
import type { Borough } from './data/boroughs.ts';
import type { NeighborhoodData } from './data/neighborhoods.ts';
import type { WeeklyHours } from './data/schedules.ts';
import type { LocationType, ServiceData } from './data/services.ts';
import { type LngLat, roundCoordinate } from './geometry.ts';

/** The platform's local zone: every "day" in the seed is a calendar day here. */
export const ZONE = 'America/New_York';

/** Rows for every table the seed fills, in insertion (foreign key) order. */
export interface SeedRows {
  regions: Insertable<DB['regions']>[];
  serviceCategories: Insertable<DB['serviceCategories']>[];
  services: Insertable<DB['services']>[];
  users: Insertable<DB['users']>[];
  userRoles: Insertable<DB['userRoles']>[];
  instructorProfiles: Insertable<DB['instructorProfiles']>[];
  instructorServices: Insertable<DB['instructorServices']>[];
  instructorServiceAreas: Insertable<DB['instructorServiceAreas']>[];
  userAddresses: Insertable<DB['userAddresses']>[];
  availabilityDays: Insertable<DB['availabilityDays']>[];
  blackoutDates: Insertable<DB['blackoutDates']>[];
  bookings: Insertable<DB['bookings']>[];
  bookingEvents: Insertable<DB['bookingEvents']>[];
  reviews: Insertable<DB['reviews']>[];
}

export interface Neighborhood {
  id: string;
  name: string;
  borough: Borough;
  center: LngLat;
  outline: LngLat[];
  data: NeighborhoodData;
  postalCity: string;
}

export interface CatalogService {
  id: string;
  data: ServiceData;
}

export interface Address {
  line1: string;
  line2: string | null;
  city: string;
  postalCode: string;
  point: LngLat;
  neighborhood: Neighborhood;
}

export interface OfferedService {
  id: string;
  service: CatalogService;
  hourlyRateCents: number;
  durations: number[];
  locationTypes: LocationType[];
}

export interface Instructor {
  userId: string;
  firstName: string;
  lastName: string;
  home: Neighborhood;
  serviceAreas: Neighborhood[];
  studio: Address | null;
  offered: OfferedService[];
  tierFeeBps: number;
  isFounding: boolean;
  isLive: boolean;
  weeklyHours: WeeklyHours;
  /** A demo account with scripted bookings (sarah, michael). */
  demoKey: 'sarah' | 'michael' | null;
}

export interface Student {
  userId: string;
  firstName: string;
  home: Address;
  demoKey: 'john' | 'emma' | null;
}

/**
 * A `point` value in PostgreSQL's input syntax '(x,y)' with x = longitude, y = latitude — the
 * same value as sql`point(${lng}, ${lat})`, but a plain string, so seed rows stay plain data.
 */
export function toPoint(point: LngLat): string {
  return `(${roundCoordinate(point.lng)},${roundCoordinate(point.lat)})`;
}

/** The service as it reads in a sentence: "I teach piano", "I teach Spanish", "SAT prep". */
export function servicePhrase(service: ServiceData): string {
  if (service.phrase) return service.phrase;
  return service.category === 'languages' ? service.name : service.name.toLowerCase();
}

export function formatAddress(address: Address): string {
  const street = address.line2 ? `${address.line1}, ${address.line2}` : address.line1;
  return `${street}, ${address.city}, NY ${address.postalCode}`;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
