/** What anyone may see of an instructor: no email, phone, exact address or Stripe ids. */
export interface PublicInstructor {
  id: string;
  /** First name and last initial, as the storefront shows it. */
  name: string;
  bio: string;
  photoUrl: string | null;
  yearsExperience: number;
  isFounding: boolean;
  isVerified: boolean;
  backgroundChecked: boolean;
  rating: number | null;
  reviewCount: number;
  services: Array<{
    serviceId: string;
    name: string;
    category: string;
    hourlyRateCents: number;
    durations: number[];
    locationTypes: string[];
  }>;
  neighborhoods: string[];
}

/** Ratings show only from 3 reviews (search spec §4), rounded to one decimal. */
export const MIN_REVIEWS_FOR_RATING = 3;

export function displayName(firstName: string, lastName: string): string {
  const initial = lastName.trim().charAt(0);
  return initial ? `${firstName.trim()} ${initial.toUpperCase()}.` : firstName.trim();
}

export function displayRating(average: number | null, count: number): number | null {
  if (average === null || count < MIN_REVIEWS_FOR_RATING) return null;
  return Math.round(average * 10) / 10;
}
