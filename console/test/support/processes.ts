import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A port nobody listens on right now, picked by the OS. */
export async function findFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('could not read the free port');
  return address.port;
}

interface SpawnOptions {
  readonly cwd: string;
  readonly env?: Record<string, string>;
}

function spawnInOwnGroup(command: string, args: readonly string[], options: SpawnOptions) {
  // detached: the child leads its own process group, so killing -pid also stops what npm spawned.
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
    output += `\n${error.message}`;
  });
  return { child, output: () => output, hasFailed: () => spawnError !== undefined };
}

function describeCommand(command: string, args: readonly string[]) {
  return [command, ...args].join(' ');
}

/** Runs a command to completion; rejects with the tail of its output when it fails. */
export async function runCommand(command: string, args: readonly string[], options: SpawnOptions): Promise<void> {
  const { child, output } = spawnInOwnGroup(command, args, options);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (exitCode !== 0) {
    throw new Error(`\`${describeCommand(command, args)}\` exited with ${exitCode}:\n${output()}`);
  }
}

/** A long-running child process (a web server) and the way to stop it with everything it spawned. */
export interface RunningServer {
  readonly url: string;
  stop(): Promise<void>;
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return; // the group is already gone
  }
  const stillRunning = await Promise.race([exited.then(() => false), sleep(5_000).then(() => true)]);
  if (stillRunning) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // exited between the check and the kill
    }
    await exited;
  }
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts a server process and resolves once `url` answers over HTTP (any status).
 * Rejects with the process output if it exits first or does not answer within `timeoutMs`.
 */
export async function startServer(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { readonly url: string; readonly timeoutMs?: number },
): Promise<RunningServer> {
  const { child, output, hasFailed } = spawnInOwnGroup(command, args, options);
  const server: RunningServer = { url: options.url, stop: () => stopGroup(child) };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (hasFailed() || child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`\`${describeCommand(command, args)}\` exited before serving ${options.url}:\n${output()}`);
    }
    try {
      await fetch(options.url, { signal: AbortSignal.timeout(2_000) });
      return server;
    } catch {
      await sleep(200);
    }
  }
  await server.stop();
  throw new Error(`\`${describeCommand(command, args)}\` did not serve ${options.url} in time:\n${output()}`);
}
