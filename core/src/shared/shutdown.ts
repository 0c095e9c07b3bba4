import type { Logger } from './logger.ts';

/**
 * Graceful stop on SIGINT/SIGTERM: the first signal runs `stop` and exits 0 (1 if stopping
 * failed); a second signal means "now" and exits 1 at once.
 */
export function stopOnSignals(logger: Logger, message: string, stop: () => Promise<void>): void {
  let signals = 0;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      signals += 1;
      if (signals > 1) process.exit(1);
      logger.info({ signal }, message);
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
