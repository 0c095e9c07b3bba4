/**
 * Plane geometry for the demo regions.
 *
 * Convention (the same everywhere in the database): a PostgreSQL `point` is (x = longitude,
 * y = latitude), and a `polygon` is the ring of such points, written '((x1,y1),(x2,y2),...)'.
 * PostgreSQL's geometric types are planar; over one city that is close enough for containment.
 */
export interface LngLat {
  lng: number;
  lat: number;
}

// A local equirectangular projection around New York City, in kilometres.
const REFERENCE_LAT = 40.7;
const KM_PER_DEGREE_LAT = 110.57;
const KM_PER_DEGREE_LNG = 111.32 * Math.cos((REFERENCE_LAT * Math.PI) / 180);

interface Xy {
  x: number;
  y: number;
}

function toKm(point: LngLat): Xy {
  return { x: point.lng * KM_PER_DEGREE_LNG, y: point.lat * KM_PER_DEGREE_LAT };
}

function fromKm(point: Xy): LngLat {
  return { lng: point.x / KM_PER_DEGREE_LNG, lat: point.y / KM_PER_DEGREE_LAT };
}

export function distanceKm(a: LngLat, b: LngLat): number {
  const pa = toKm(a);
  const pb = toKm(b);
  return Math.hypot(pa.x - pb.x, pa.y - pb.y);
}

/** A regular polygon of `sides` vertices at `radiusKm` around `center`. */
function regularPolygon(center: Xy, radiusKm: number, sides: number): Xy[] {
  const ring: Xy[] = [];
  for (let i = 0; i < sides; i++) {
    const angle = (2 * Math.PI * i) / sides + Math.PI / sides;
    ring.push({ x: center.x + radiusKm * Math.cos(angle), y: center.y + radiusKm * Math.sin(angle) });
  }
  return ring;
}

/** Keeps the part of a convex polygon that is nearer to `own` than to `other` (Sutherland–Hodgman). */
function clipCloserTo(ring: Xy[], own: Xy, other: Xy): Xy[] {
  const mid = { x: (own.x + other.x) / 2, y: (own.y + other.y) / 2 };
  const normal = { x: other.x - own.x, y: other.y - own.y };
  const side = (p: Xy) => (p.x - mid.x) * normal.x + (p.y - mid.y) * normal.y; // ≤ 0: own side
  const result: Xy[] = [];
  for (let i = 0; i < ring.length; i++) {
    const current = ring[i] as Xy;
    const following = ring[(i + 1) % ring.length] as Xy;
    const sCurrent = side(current);
    const sFollowing = side(following);
    if (sCurrent <= 0) result.push(current);
    if ((sCurrent < 0 && sFollowing > 0) || (sCurrent > 0 && sFollowing < 0)) {
      const t = sCurrent / (sCurrent - sFollowing);
      result.push({ x: current.x + t * (following.x - current.x), y: current.y + t * (following.y - current.y) });
    }
  }
  return result;
}

/**
 * Approximate neighborhood outlines: an octagon of `radiusKm` around each center, cut where it
 * meets the next center's (a bounded Voronoi diagram), so outlines never overlap and each center
 * lies well inside its own outline.
 */
export function neighborhoodOutlines(sites: readonly { center: LngLat; radiusKm: number }[]): LngLat[][] {
  const centers = sites.map((site) => toKm(site.center));
  return sites.map((site, index) => {
    const own = centers[index] as Xy;
    let ring = regularPolygon(own, site.radiusKm, 8);
    centers.forEach((other, otherIndex) => {
      if (otherIndex !== index) ring = clipCloserTo(ring, own, other);
    });
    return ring.map(fromKm);
  });
}

/** Ray casting; points exactly on an edge may go either way, so callers keep a margin. */
export function isInsidePolygon(point: LngLat, ring: readonly LngLat[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i] as LngLat;
    const b = ring[j] as LngLat;
    if (a.lat > point.lat !== b.lat > point.lat) {
      const crossingLng = a.lng + ((point.lat - a.lat) / (b.lat - a.lat)) * (b.lng - a.lng);
      if (point.lng < crossingLng) inside = !inside;
    }
  }
  return inside;
}

/** Rounds to 6 decimals (about 10 cm), as stored. */
export function roundCoordinate(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** The PostgreSQL polygon literal '((lng,lat),…)'. */
export function polygonLiteral(ring: readonly LngLat[]): string {
  return `(${ring.map((p) => `(${roundCoordinate(p.lng)},${roundCoordinate(p.lat)})`).join(',')})`;
}

/** A point `distanceKm` from `center` in the direction `angleRadians` (0 = east). */
export function offsetPoint(center: LngLat, distanceKm: number, angleRadians: number): LngLat {
  const c = toKm(center);
  return fromKm({ x: c.x + distanceKm * Math.cos(angleRadians), y: c.y + distanceKm * Math.sin(angleRadians) });
}
