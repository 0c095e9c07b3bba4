#!/usr/bin/env node
// `npm start`: the whole platform on one machine with nothing configured.
//
// With no DATABASE_URL the API process owns the embedded PGlite database (migrated and seeded
// with demo data on first run) and, once the job worker exists, runs it in-process too; every
// other process reaches the data only through the API. With DATABASE_URL set the same processes
// run against that server. Ctrl-C stops everything cleanly.
//
// START_ONLY=api,console limits which processes start (default: all of them).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const env = process.env;
const apiPort = Number(env.API_PORT || 8000);
const apiUrl = `http://localhost:${apiPort}`;
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

/** The processes that exist so far, in start order. */
const processes = [
  {
    name: 'api',
    command: tsx,
    args: ['core/src/server.ts'],
    env: { API_PORT: String(apiPort) },
    url: `${apiUrl}/api/v1`,
    ready: `${apiUrl}/api/v1/health`,
    // first run seeds the embedded database: allow for it
    readyTimeoutMs: 180_000,
  },
  // With DATABASE_URL the job worker and scheduler run in their own process (on the embedded
  // database the API process runs them in-process).
  ...(env.DATABASE_URL
    ? [
        {
          name: 'worker',
          command: tsx,
          args: ['core/src/worker.ts'],
          env: { WORKER_METRICS_PORT: env.WORKER_METRICS_PORT || '9464' },
          url: `http://127.0.0.1:${env.WORKER_METRICS_PORT || 9464}/metrics`,
          ready: `http://127.0.0.1:${env.WORKER_METRICS_PORT || 9464}/healthz`,
          readyTimeoutMs: 60_000,
        },
      ]
    : []),
  {
    name: 'mcp',
    command: tsx,
    args: ['mcp-server/src/main.ts'],
    env: { MCP_PORT: env.MCP_PORT || '8100', INSTAINSTRU_API_URL: apiUrl },
    url: `http://localhost:${env.MCP_PORT || 8100}/mcp`,
    ready: `http://localhost:${env.MCP_PORT || 8100}/healthz`,
    readyTimeoutMs: 60_000,
  },
  {
    name: 'console',
    command: bin('vite'),
    args: ['--host', '127.0.0.1'],
    cwd: 'console',
    env: { CONSOLE_PORT: env.CONSOLE_PORT || '5173', VITE_API_URL: apiUrl },
    url: `http://localhost:${env.CONSOLE_PORT || 5173}`,
    ready: `http://127.0.0.1:${env.CONSOLE_PORT || 5173}`,
    readyTimeoutMs: 60_000,
  },
  {
    name: 'storefront',
    command: bin('next'),
    args: ['dev', '--port', env.STOREFRONT_PORT || '3000', '--hostname', '127.0.0.1'],
    cwd: 'storefront',
    env: { NEXT_TELEMETRY_DISABLED: '1', NEXT_PUBLIC_API_URL: apiUrl },
    url: `http://localhost:${env.STOREFRONT_PORT || 3000}`,
    ready: `http://127.0.0.1:${env.STOREFRONT_PORT || 3000}`,
    readyTimeoutMs: 120_000,
  },
];

const only = env.START_ONLY ? new Set(env.START_ONLY.split(',').map((name) => name.trim())) : undefined;
const selected = processes.filter((proc) => !only || only.has(proc.name));
const children = new Map();
let stopping = false;

const colours = { api: 36, mcp: 35, console: 33, storefront: 32 };
function prefixed(name, stream, target) {
  let buffer = '';
  stream.on('data', (chunk) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) target.write(`\u001b[${colours[name] ?? 37}m[${name}]\u001b[0m ${line}\n`);
  });
}

function start(proc) {
  const child = spawn(proc.command, proc.args, {
    cwd: path.join(root, proc.cwd ?? '.'),
    env: { ...env, ...proc.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.set(proc.name, child);
  prefixed(proc.name, child.stdout, process.stdout);
  prefixed(proc.name, child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    children.delete(proc.name);
    if (!stopping) {
      console.error(`\n${proc.name} stopped unexpectedly (${signal ?? `exit ${code}`}); stopping the rest.`);
      shutdown(1);
    }
  });
  return child;
}

async function waitReady(proc) {
  const deadline = Date.now() + proc.readyTimeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return false;
    try {
      const response = await fetch(proc.ready, { signal: AbortSignal.timeout(2_000) });
      if (response.status < 500) return true;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

function shutdown(code) {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping…');
  for (const child of children.values()) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const force = setTimeout(() => {
    for (const child of children.values()) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(code);
  }, 15_000);
  force.unref();
  const check = setInterval(() => {
    if (children.size === 0) {
      clearInterval(check);
      console.log('Stopped.');
      process.exit(code);
    }
  }, 100);
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

console.log(
  env.DATABASE_URL
    ? 'InstaInstru: using DATABASE_URL.'
    : 'InstaInstru: no DATABASE_URL — using the embedded PGlite database in .data/ (demo data is loaded on first run).',
);
if (!env.REDIS_URL) console.log('InstaInstru: no REDIS_URL — caches and rate limits are in-process (one API process).');

for (const proc of selected) {
  start(proc);
  const ready = await waitReady(proc);
  if (stopping) break;
  if (!ready) {
    console.error(`${proc.name} did not become ready at ${proc.ready} within ${proc.readyTimeoutMs / 1000}s; stopping.`);
    shutdown(1);
    break;
  }
}

if (!stopping) {
  console.log('\nInstaInstru is running:');
  for (const proc of selected) console.log(`  ${proc.name.padEnd(11)} ${proc.url}`);
  if (selected.some((proc) => proc.name === 'api')) {
    console.log(`  ${'openapi'.padEnd(11)} ${apiUrl}/openapi.json`);
    console.log('\nDemo accounts (password Test1234): admin@example.com, sarah.chen@example.com, john.smith@example.com');
  }
  console.log('Press Ctrl-C to stop.');
}
