/**
 * The five boroughs with coarse outlines (hand-drawn, a few kilometres of accuracy; they follow
 * the rivers only roughly and include some water). Shared borders use the same vertices so two
 * outlines never overlap. Coordinates are [longitude, latitude] — point x = lng, y = lat.
 */
export type Borough = 'Manhattan' | 'Brooklyn' | 'Queens' | 'Bronx' | 'Staten Island';

export interface BoroughData {
  name: Borough;
  slug: string;
  /** A representative center (lat/lng of the borough's usual map center). */
  lat: number;
  lng: number;
  outline: readonly (readonly [lng: number, lat: number])[];
  /** The postal "city" of an address there (Queens addresses use the neighborhood instead). */
  postalCity: string;
}

// Borders shared by two boroughs, listed once and reversed for the other side.
const MANHATTAN_BRONX: readonly (readonly [number, number])[] = [
  [-73.928, 40.795],
  [-73.93, 40.81],
  [-73.934, 40.835],
  [-73.91, 40.872],
  [-73.925, 40.882],
];
const BROOKLYN_QUEENS: readonly (readonly [number, number])[] = [
  [-73.962, 40.739],
  [-73.935, 40.735],
  [-73.923, 40.714],
  [-73.897, 40.683],
  [-73.87, 40.678],
  [-73.86, 40.65],
  [-73.88, 40.62],
  [-73.895, 40.585],
];

export const BOROUGHS: readonly BoroughData[] = [
  {
    name: 'Manhattan',
    slug: 'manhattan',
    lat: 40.7831,
    lng: -73.9712,
    postalCity: 'New York',
    outline: [
      [-74.022, 40.699],
      [-73.975, 40.708],
      [-73.971, 40.711],
      [-73.972, 40.727],
      [-73.968, 40.743],
      [-73.958, 40.757],
      [-73.945, 40.774],
      ...MANHATTAN_BRONX,
      [-73.948, 40.851],
      [-73.961, 40.825],
      [-73.996, 40.77],
      [-74.013, 40.745],
      [-74.019, 40.72],
    ],
  },
  {
    name: 'Bronx',
    slug: 'bronx',
    lat: 40.8448,
    lng: -73.8648,
    postalCity: 'Bronx',
    outline: [
      ...[...MANHATTAN_BRONX].reverse(),
      [-73.915, 40.797],
      [-73.88, 40.803],
      [-73.83, 40.808],
      [-73.795, 40.805],
      [-73.775, 40.835],
      [-73.77, 40.862],
      [-73.81, 40.888],
      [-73.86, 40.904],
      [-73.918, 40.916],
    ],
  },
  {
    name: 'Brooklyn',
    slug: 'brooklyn',
    lat: 40.6782,
    lng: -73.9442,
    postalCity: 'Brooklyn',
    outline: [
      [-74.042, 40.64],
      [-74.026, 40.683],
      [-73.998, 40.705],
      [-73.965, 40.712],
      ...BROOKLYN_QUEENS,
      [-73.935, 40.57],
      [-74.012, 40.572],
      [-74.04, 40.6],
    ],
  },
  {
    name: 'Queens',
    slug: 'queens',
    lat: 40.7282,
    lng: -73.7949,
    postalCity: 'Queens',
    outline: [
      ...[...BROOKLYN_QUEENS].reverse(),
      [-73.96, 40.75],
      [-73.945, 40.77],
      [-73.935, 40.785],
      [-73.9, 40.79],
      [-73.83, 40.805],
      [-73.78, 40.8],
      [-73.74, 40.79],
      [-73.7, 40.74],
      [-73.725, 40.65],
      [-73.74, 40.59],
      [-73.94, 40.55],
    ],
  },
  {
    name: 'Staten Island',
    slug: 'staten-island',
    lat: 40.5795,
    lng: -74.1502,
    postalCity: 'Staten Island',
    outline: [
      [-74.07, 40.649],
      [-74.052, 40.612],
      [-74.058, 40.6],
      [-74.1, 40.56],
      [-74.14, 40.537],
      [-74.2, 40.515],
      [-74.255, 40.496],
      [-74.25, 40.53],
      [-74.205, 40.56],
      [-74.2, 40.6],
      [-74.19, 40.642],
      [-74.13, 40.646],
    ],
  },
];
