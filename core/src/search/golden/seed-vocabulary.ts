import { BOROUGHS } from '../../../../db/src/seed/data/boroughs.ts';
import { NEIGHBORHOODS } from '../../../../db/src/seed/data/neighborhoods.ts';
import { CATEGORIES, SERVICES } from '../../../../db/src/seed/data/services.ts';
import type { SearchVocabulary } from '../parsed-query.ts';
import { DEFAULT_PRICE_THRESHOLDS } from '../parse/price-thresholds.ts';

/**
 * Everyday names New Yorkers use for seeded neighborhoods and boroughs. The database's region
 * alias table plays this part in production; the tests use this fixed list.
 */
export const TEST_REGION_ALIASES: readonly string[] = [
  'ues',
  'uws',
  'les',
  'fidi',
  'lic',
  'bed stuy',
  'bedstuy',
  'the bronx',
  'bk',
  'wash heights',
  'the village',
  'prospect lefferts',
];

/**
 * The search vocabulary of the seeded catalog and regions (db/src/seed/data), built without a
 * database so parser tests run anywhere.
 */
export function seedVocabulary(): SearchVocabulary {
  return {
    services: SERVICES.map((service) => ({
      slug: service.slug,
      name: service.name,
      categorySlug: service.category,
      aliases: service.aliases,
    })),
    categories: CATEGORIES.map((category) => ({ slug: category.slug, name: category.name })),
    regionPhrases: [
      ...NEIGHBORHOODS.map((neighborhood) => neighborhood.name.toLowerCase()),
      ...BOROUGHS.map((borough) => borough.name.toLowerCase()),
      ...TEST_REGION_ALIASES,
    ],
    priceThresholds: DEFAULT_PRICE_THRESHOLDS,
  };
}
