export { loadDbConfig, redactDatabaseUrl, Tier, type DbConfig } from './config.ts';
export { openDatabase, type Database, type Engine, type Logger } from './connection.ts';
export { migrateToLatest, migrateDownAll, migrationStatus, isSchemaCurrent, type MigrationStatus } from './migrate.ts';
export { formatTier, confirmDestructive, TierRefusal, type Terminal } from './tier.ts';
export { newId } from './ids.ts';
export type * from './schema.ts';
