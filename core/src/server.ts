import type { Server } from 'node:http';
import { prepareDatabase } from './bootstrap.ts';
import { type AppConfig, loadConfig } from './config.ts';
import { createApp } from './http/app.ts';
import { systemClock } from './shared/clock.ts';
import { createLogger, type Logger } from './shared/logger.ts';

/** Starts the API process; resolves once it listens. Returns a stop function for graceful shutdown. */
export async function startApi(config: AppConfig, logger: Logger): Promise<{ server: Server; url: string; stop: () => Promise<void> }> {
  const database = await prepareDatabase(config, logger);
  const app = createApp({ config, database, logger, clock: systemClock, startedAt: new Date() });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(config.port, config.host, () => resolve(listening));
    listening.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Stop taking new connections, let in-flight requests finish (bounded), then close the pool.
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, 10_000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      await database.close();
    })();
    return stopping;
  };
  return { server, url, stop };
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, name: 'api' });
  const api = await startApi(config, logger);
  logger.info({ url: api.url }, `API listening on ${api.url}/api/v1 (health: ${api.url}/api/v1/health)`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down');
      api.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
