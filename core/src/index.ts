export { loadConfig, type AppConfig } from './config.ts';
export { createApp } from './http/app.ts';
export type { ApiDeps } from './http/deps.ts';
export { AppError, ERROR_STATUS, type ErrorCode, notFound } from './shared/errors.ts';
export { systemClock, fixedClock, type Clock } from './shared/clock.ts';
export { createLogger, maskEmails, type Logger } from './shared/logger.ts';
export { type Page, encodeCursor, decodeCursor, DEFAULT_LIMIT, MAX_LIMIT } from './shared/pagination.ts';
export * from './instructors/index.ts';
