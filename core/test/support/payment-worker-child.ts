import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { startWorkerProcess } from '../../src/worker.ts';

/**
 * A real worker process for the payment reliability tests: this file, run as a script, starts
 * exactly what `core/src/worker.ts` starts (`startWorkerProcess`: every core handler, the
 * scheduler, pg-boss maintenance, the payment provider and Redis from the environment), adds only
 * a `READY <workerId>` line on stdout and a guard that exits when the test runner that started it
 * is gone. The parent points it at its database and the Stripe fake through the environment.
 */

export interface PaymentWorker {
  readonly child: ChildProcess;
  readonly tag: string;
  /** The worker's id (worker_heartbeats) once it polls its queues. */
  readonly ready: Promise<string>;
  /** The last output, for failure messages. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const thisFile = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(thisFile), '../../..');

/** Starts a worker process with `env` on top of this process's environment (`undefined` removes a variable). */
export function spawnPaymentWorker(tag: string, env: Record<string, string | undefined>): PaymentWorker {
  const childEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, ...env })) if (value !== undefined) childEnv[name] = value;
  // `node --import tsx`, not the tsx CLI: the CLI runs the script in a grandchild that a SIGKILL would miss.
  const child = spawn(process.execPath, ['--import', 'tsx', thisFile], { cwd: repoRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<string>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`worker ${tag} not ready after 30 s: ${output}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      keep(chunk);
      buffer += chunk.toString();
      const match = /^READY (\S+)$/m.exec(buffer);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
      buffer = buffer.slice(-1_000);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker ${tag} exited before it was ready: ${output}`));
    });
  });
  // (a rejection nobody awaits, e.g. after a deliberate kill, must not fail the run)
  ready.catch(() => {});
  return {
    child,
    tag,
    ready,
    output: () => output,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

async function runChild(): Promise<void> {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 500).unref();
  const config = loadConfig(process.env);
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  const worker = await startWorkerProcess(config, logger);
  process.stdout.write(`READY ${worker.jobs.worker?.id ?? 'unknown'}\n`);
  process.once('SIGTERM', () => {
    void worker.stop().then(() => process.exit(0));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runChild().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
