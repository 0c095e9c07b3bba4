import type { Insertable } from 'kysely';
import type { DB } from '../schema.ts';
import { BOROUGHS } from './data/boroughs.ts';
import { DEFAULT_RADIUS_KM, NEIGHBORHOODS } from './data/neighborhoods.ts';
import { neighborhoodOutlines, polygonLiteral } from './geometry.ts';
import { type Neighborhood, toPoint } from './model.ts';

/** The five boroughs (kind 'borough') and their neighborhoods (parent_id = the borough). */
export function buildRegions(nextId: () => string, createdAt: Date): { rows: Insertable<DB['regions']>[]; neighborhoods: Neighborhood[] } {
  const rows: Insertable<DB['regions']>[] = [];
  const boroughIds = new Map<string, string>();
  for (const borough of BOROUGHS) {
    const id = nextId();
    boroughIds.set(borough.name, id);
    rows.push({
      id,
      kind: 'borough',
      name: borough.name,
      slug: borough.slug,
      borough: borough.name,
      parentId: null,
      boundary: polygonLiteral(borough.outline.map(([lng, lat]) => ({ lng, lat }))),
      centroid: toPoint(borough),
      createdAt,
    });
  }

  const outlines = neighborhoodOutlines(
    NEIGHBORHOODS.map((data) => ({ center: data, radiusKm: data.radiusKm ?? DEFAULT_RADIUS_KM[data.borough] })),
  );
  const neighborhoods = NEIGHBORHOODS.map((data, index): Neighborhood => {
    const borough = BOROUGHS.find((candidate) => candidate.name === data.borough);
    if (!borough) throw new Error(`unknown borough ${data.borough}`);
    return {
      id: nextId(),
      name: data.name,
      borough: data.borough,
      center: { lng: data.lng, lat: data.lat },
      outline: outlines[index] ?? [],
      data,
      postalCity: data.postalCity ?? borough.postalCity,
    };
  });
  for (const neighborhood of neighborhoods) {
    rows.push({
      id: neighborhood.id,
      kind: 'neighborhood',
      name: neighborhood.name,
      slug: neighborhood.data.slug,
      borough: neighborhood.borough,
      parentId: boroughIds.get(neighborhood.borough) ?? null,
      boundary: polygonLiteral(neighborhood.outline),
      centroid: toPoint(neighborhood.center),
      createdAt,
    });
  }
  return { rows, neighborhoods };
}
