import type { Insertable } from 'kysely';
import type { DB } from '../schema.ts';
import { CATEGORIES, SERVICES } from './data/services.ts';
import type { CatalogService } from './model.ts';

/** Service categories and services, in the order of data/services.ts. */
export function buildCatalog(
  nextId: () => string,
  createdAt: Date,
): { categoryRows: Insertable<DB['serviceCategories']>[]; serviceRows: Insertable<DB['services']>[]; services: CatalogService[] } {
  const categoryIds = new Map<string, string>();
  const categoryRows = CATEGORIES.map((category, index) => {
    const id = nextId();
    categoryIds.set(category.slug, id);
    return { id, slug: category.slug, name: category.name, description: category.description, sortOrder: (index + 1) * 10 };
  });

  const services = SERVICES.map((data): CatalogService => ({ id: nextId(), data }));
  const serviceRows = services.map(({ id, data }) => {
    const categoryId = categoryIds.get(data.category);
    if (!categoryId) throw new Error(`service ${data.slug} has an unknown category ${data.category}`);
    return {
      id,
      categoryId,
      slug: data.slug,
      name: data.name,
      description: data.description,
      audiences: [...data.audiences],
      skillLevels: [...data.skillLevels],
      aliases: [...data.aliases],
      onlineCapable: data.onlineCapable,
      isActive: true,
      createdAt,
    };
  });
  return { categoryRows, serviceRows, services };
}
