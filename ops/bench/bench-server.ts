import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

/** What a bench server script prints as one JSON line once it listens. */
export interface BenchServerInfo {
  apiUrl: string;
  bareUrl: string;
  pid: number;
}

/**
 * Starts a bench server script (platform-server.ts, search-server.ts) with tsx in its own process,
 * so the load generator does not share its CPU, and resolves with the `{ready: true, …}` line it
 * prints. Other stdout lines (logs) are ignored.
 */
export async function startBenchServer(
  root: string,
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; info: BenchServerInfo }> {
  const child = spawn(path.join(root, 'node_modules/.bin/tsx'), [script], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout! });
  const info = await new Promise<BenchServerInfo>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited early (${code})`)));
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as BenchServerInfo & { ready?: boolean };
        if (parsed.ready) resolve(parsed);
      } catch {
        // a log line, not ours
      }
    });
  });
  return { child, info };
}
