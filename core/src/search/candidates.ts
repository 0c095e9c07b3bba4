import type { DB } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import { DEFAULT_PRIOR_RATING, REVIEW_HALF_LIFE_DAYS } from './rank.ts';

/** One live instructor's offering of one catalog service. */
export interface Offering {
  instructorServiceId: string;
  instructorId: string;
  serviceId: string;
  hourlyRateCents: number;
  durations: number[];
  locationTypes: string[];
  audiences: string[];
  skillLevels: string[];
}

export interface InstructorFacts {
  id: string;
  firstName: string;
  lastName: string;
  photoUrl: string | null;
  bio: string;
  yearsExperience: number;
  isFounding: boolean;
  isVerified: boolean;
  identityVerified: boolean;
  backgroundCheckPassed: boolean;
  responseRate: number | null;
  lastActiveAt: Date | null;
  studio: { lat: number; lng: number } | null;
  /** The neighborhood the studio lies in, if any. */
  studioRegionId: string | null;
  serviceAreaIds: string[];
  /** Non-hidden reviews, as the profile page counts them (the displayed rating). */
  reviewCount: number;
  ratingAverage: number | null;
  /** Eligible reviews (not hidden, not for a no-show, within 30 days of the lesson), 12-month half-life. */
  weightedRatingSum: number;
  reviewWeightSum: number;
}

export interface Candidates {
  offerings: Offering[];
  instructors: Map<string, InstructorFacts>;
}

/**
 * Every live, active instructor's active offering of the given services (all services when
 * `serviceIds` is null), with what ranking needs to know about each instructor. Filters that can
 * be relaxed are applied later, in memory, so relaxing never costs another round trip.
 */
export async function loadCandidates(db: Kysely<DB>, serviceIds: readonly string[] | null, now: Date): Promise<Candidates> {
  if (serviceIds !== null && serviceIds.length === 0) return { offerings: [], instructors: new Map() };
  let offeringQuery = db
    .selectFrom('instructorServices as o')
    .innerJoin('instructorProfiles as p', 'p.userId', 'o.instructorId')
    .innerJoin('users as u', 'u.id', 'o.instructorId')
    .where('o.deletedAt', 'is', null)
    .where('o.isActive', '=', true)
    .where('p.isLive', '=', true)
    .where('u.status', '=', 'active')
    .select([
      'o.id as instructorServiceId',
      'o.instructorId',
      'o.serviceId',
      'o.hourlyRateCents',
      'o.durations',
      'o.locationTypes',
      'o.audiences',
      'o.skillLevels',
    ])
    .orderBy('o.instructorId')
    .orderBy('o.serviceId');
  if (serviceIds !== null) offeringQuery = offeringQuery.where('o.serviceId', 'in', [...serviceIds]);
  const offerings = await offeringQuery.execute();
  const ids = [...new Set(offerings.map((offering) => offering.instructorId))];
  if (ids.length === 0) return { offerings: [], instructors: new Map() };

  const [profiles, areas, displayed, eligible] = await Promise.all([
    db
      .selectFrom('instructorProfiles as p')
      .innerJoin('users as u', 'u.id', 'p.userId')
      .where('p.userId', 'in', ids)
      .select([
        'p.userId as id',
        'u.firstName',
        'u.lastName',
        'u.lastActiveAt',
        'p.photoUrl',
        'p.bio',
        'p.yearsExperience',
        'p.isFounding',
        'p.verificationStatus',
        'p.identityVerifiedAt',
        'p.backgroundCheckStatus',
        'p.responseRate',
        'p.studioLocation',
      ])
      .select(
        sql<
          string | null
        >`(select r.id from regions r where r.kind = 'neighborhood' and p.studio_location is not null and r.boundary @> p.studio_location limit 1)`.as(
          'studioRegionId',
        ),
      )
      .execute(),
    db.selectFrom('instructorServiceAreas').where('instructorId', 'in', ids).select(['instructorId', 'regionId']).execute(),
    db
      .selectFrom('reviews')
      .where('instructorId', 'in', ids)
      .where('isHidden', '=', false)
      .groupBy('instructorId')
      .select(['instructorId', sql<number>`count(*)::int`.as('n'), sql<number>`avg(rating)::float8`.as('average')])
      .execute(),
    sql<{ instructorId: string; weightedSum: number; weightSum: number }>`
      select r.instructor_id,
        sum(r.rating * power(0.5, greatest(0, extract(epoch from (${now}::timestamptz - r.created_at))) / ${REVIEW_HALF_LIFE_DAYS * 86_400}::float8))::float8 as weighted_sum,
        sum(power(0.5, greatest(0, extract(epoch from (${now}::timestamptz - r.created_at))) / ${REVIEW_HALF_LIFE_DAYS * 86_400}::float8))::float8 as weight_sum
      from reviews r
      join bookings b on b.id = r.booking_id
      where r.instructor_id in (${sql.join(ids)})
        and not r.is_hidden
        and b.status <> 'no_show'
        and r.created_at <= b.ends_at + interval '30 days'
      group by r.instructor_id
    `.execute(db),
  ]);

  const areasByInstructor = new Map<string, string[]>();
  for (const area of areas) {
    const list = areasByInstructor.get(area.instructorId) ?? [];
    list.push(area.regionId);
    areasByInstructor.set(area.instructorId, list);
  }
  const displayedBy = new Map(displayed.map((row) => [row.instructorId, row]));
  const eligibleBy = new Map(eligible.rows.map((row) => [row.instructorId, row]));
  const instructors = new Map<string, InstructorFacts>();
  for (const row of profiles) {
    const shown = displayedBy.get(row.id);
    const weighted = eligibleBy.get(row.id);
    instructors.set(row.id, {
      id: row.id,
      firstName: row.firstName,
      lastName: row.lastName,
      photoUrl: row.photoUrl,
      bio: row.bio,
      yearsExperience: row.yearsExperience,
      isFounding: row.isFounding,
      isVerified: row.verificationStatus === 'verified',
      identityVerified: row.identityVerifiedAt !== null,
      backgroundCheckPassed: row.backgroundCheckStatus === 'passed',
      responseRate: row.responseRate === null ? null : Number(row.responseRate),
      lastActiveAt: row.lastActiveAt,
      studio: row.studioLocation ? { lat: row.studioLocation.y, lng: row.studioLocation.x } : null,
      studioRegionId: row.studioRegionId,
      serviceAreaIds: areasByInstructor.get(row.id) ?? [],
      reviewCount: shown?.n ?? 0,
      ratingAverage: shown?.average ?? null,
      weightedRatingSum: Number(weighted?.weightedSum ?? 0),
      reviewWeightSum: Number(weighted?.weightSum ?? 0),
    });
  }
  return { offerings: offerings.filter((offering) => instructors.has(offering.instructorId)), instructors };
}

/** The platform's mean eligible rating: the Bayesian prior (falls back to 4.5 with no reviews). */
export async function platformMeanRating(db: Kysely<DB>): Promise<number> {
  const { rows } = await sql<{ mean: number | null }>`
    select avg(r.rating)::float8 as mean from reviews r join bookings b on b.id = r.booking_id
    where not r.is_hidden and b.status <> 'no_show' and r.created_at <= b.ends_at + interval '30 days'
  `.execute(db);
  const mean = rows[0]?.mean;
  return mean === null || mean === undefined ? DEFAULT_PRIOR_RATING : Number(mean);
}
