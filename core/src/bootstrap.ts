import { type Database, formatTier, migrateToLatest, openDatabase } from '@instainstru/db';
import type { AppConfig } from './config.ts';
import type { Logger } from './shared/logger.ts';

/**
 * Opens the database and brings it to the current schema. On the embedded engine (and on any
 * non-PROD tier) migrations run at start; on PROD they are a deploy step (`npm run db -- migrate`)
 * and readiness reports pending ones. Demo data is loaded on first run when the database is empty.
 */
export async function prepareDatabase(config: AppConfig, logger: Logger): Promise<Database> {
  const database = await openDatabase(config.db, logger);
  logger.info(
    { tier: config.db.tier, engine: database.engine, location: database.location },
    `${formatTier(config.db.tier, { colour: process.stdout.isTTY })} database ready`,
  );
  if (config.db.tier !== 'prod') {
    const applied = await migrateToLatest(database.db);
    if (applied.length) logger.info({ applied }, 'migrations applied');
  }
  if (config.seedDemoData === 'auto' && config.db.tier !== 'prod') {
    const existing = await database.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
    if (!existing) {
      logger.info('empty database: loading the demo data (first run only)…');
      const { seedDemoData } = await import('@instainstru/db/seed');
      const summary = await seedDemoData(database.db);
      logger.info({ counts: summary.counts }, 'demo data loaded');
    }
  }
  return database;
}
