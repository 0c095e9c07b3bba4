// Benchmark of the API platform (spec: reliability-and-performance.md, P3 and P8).
//
//   P3  authenticated hello (helmet, JWT verify, RBAC, rate limit) req/s ÷ bare hello req/s  (goal ≥ 0.5)
//   P8  login req/s ÷ raw Argon2id verify rate at the same parameters                     (goal ≥ 0.8)
//
// Both sides of each ratio are served by one child process (platform-server.ts); this process
// only generates load (load.ts, a small closed-loop generator: autocannon is not installed).
// Baseline and target alternate, each run after a warm-up, and the medians of BENCH_RUNS runs are
// compared. The result goes to ops/bench/results/platform-<time>.json and a table is printed.
// Not a test: it never fails on speed.
//
//   npm run bench:platform -w ops        BENCH_CONNECTIONS=50 BENCH_DURATION_S=10 BENCH_RUNS=3
//   DATABASE_URL=postgres://…            the API process uses a fresh database on that server
//   REDIS_URL=redis://…                  rate limits counted in Redis instead of in-process
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../../db/src/testing.ts';
import { startBenchServer } from './bench-server.ts';
import { type LoadResult, median, runLoad } from './load.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const durationMs = Number(process.env.BENCH_DURATION_S ?? 10) * 1000;
const warmupMs = Number(process.env.BENCH_WARMUP_S ?? 3) * 1000;
const runs = Number(process.env.BENCH_RUNS ?? 3);

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** One account per connection, each from its own address (the sign-in throttle is per account and IP). */
async function registerAccounts(apiUrl: string, count: number) {
  const accounts: Array<{ email: string; password: string; ip: string; accessToken: string }> = [];
  for (let index = 0; index < count; index += 1) {
    const email = `bench-${index}-${Date.now()}@example.com`;
    const password = 'correct horse battery staple';
    const ip = `10.77.${Math.floor(index / 250)}.${(index % 250) + 1}`;
    const registered = await postJson(
      `${apiUrl}/api/v1/auth/register`,
      { email, password, firstName: 'Bench', lastName: 'Mark', role: 'student' },
      { 'x-forwarded-for': ip },
    );
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${JSON.stringify(registered.body)}`);
    accounts.push({ email, password, ip, accessToken: registered.body.accessToken });
  }
  return accounts;
}

interface Measured {
  runs: LoadResult[];
  medianRps: number;
  medianP99Ms: number;
}

function summarise(results: LoadResult[]): Measured {
  return {
    runs: results,
    medianRps: median(results.map((result) => result.rps)),
    medianP99Ms: median(results.map((result) => result.latencyMs.p99)),
  };
}

function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

async function main(): Promise<void> {
  let database: TestDatabase | undefined;
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  if (process.env.DATABASE_URL) {
    database = await createTestDatabase(process.env, { migrate: false });
    childEnv.DATABASE_URL = database.url;
  }
  const { child, info } = await startBenchServer(root, path.join(here, 'platform-server.ts'), childEnv);
  const started = new Date();
  try {
    console.log(`bench server pid ${info.pid}: api ${info.apiUrl}, bare ${info.bareUrl}`);
    console.log(`${connections} connections × ${durationMs / 1000} s, ${runs} runs each, alternating; warm-up ${warmupMs / 1000} s`);
    const accounts = await registerAccounts(info.apiUrl, connections);

    const bareHello = { baseUrl: info.bareUrl, connections, request: { path: '/hello' } };
    const authHello = {
      baseUrl: info.apiUrl,
      connections,
      request: (loop: number) => ({ path: '/api/v1/bench/hello', headers: { authorization: `Bearer ${accounts[loop]?.accessToken}` } }),
    };
    const publicHello = {
      baseUrl: info.apiUrl,
      connections,
      request: (loop: number) => ({ path: '/api/v1/bench/public-hello', headers: { 'x-forwarded-for': accounts[loop]!.ip } }),
    };
    const loginLoad = {
      baseUrl: info.apiUrl,
      connections,
      request: (loop: number) => {
        const account = accounts[loop]!;
        return {
          method: 'POST',
          path: '/api/v1/auth/login',
          headers: { 'x-forwarded-for': account.ip },
          body: JSON.stringify({ email: account.email, password: account.password }),
        };
      },
    };

    // P3: bare vs authenticated hello
    await runLoad({ ...bareHello, durationMs: warmupMs });
    await runLoad({ ...authHello, durationMs: warmupMs });
    const bare: LoadResult[] = [];
    const authenticated: LoadResult[] = [];
    const anonymous: LoadResult[] = [];
    for (let run = 0; run < runs; run += 1) {
      bare.push(await runLoad({ ...bareHello, durationMs }));
      authenticated.push(await runLoad({ ...authHello, durationMs }));
      anonymous.push(await runLoad({ ...publicHello, durationMs }));
      console.log(
        `  P3 run ${run + 1}: bare ${fmt(bare[run]!.rps, 0)} req/s, authenticated ${fmt(authenticated[run]!.rps, 0)} req/s` +
          ` (diagnostic: same stack anonymous ${fmt(anonymous[run]!.rps, 0)} req/s)`,
      );
    }

    // P8: raw Argon2id verifications vs logins
    await runLoad({ ...loginLoad, durationMs: warmupMs });
    const argon2: number[] = [];
    const logins: LoadResult[] = [];
    for (let run = 0; run < runs; run += 1) {
      const raw = await postJson(`${info.bareUrl}/argon2?durationMs=${durationMs}&concurrency=${connections}`, {});
      argon2.push(raw.body.perSecond);
      logins.push(await runLoad({ ...loginLoad, durationMs }));
      console.log(`  P8 run ${run + 1}: argon2 ${fmt(argon2[run]!)} verify/s, login ${fmt(logins[run]!.rps)} req/s`);
    }

    const p3 = { bare: summarise(bare), authenticated: summarise(authenticated), diagnosticAnonymousFullStack: summarise(anonymous) };
    const p8 = { argon2PerSecond: argon2, medianArgon2PerSecond: median(argon2), login: summarise(logins) };
    const ratios = {
      P3: p3.authenticated.medianRps / p3.bare.medianRps,
      P8: p8.login.medianRps / p8.medianArgon2PerSecond,
    };
    const unintended = [...authenticated, ...bare, ...anonymous, ...logins].filter((result) => result.non2xx > 0 || result.errors > 0);
    const result = {
      benchmark: 'platform',
      startedAt: started.toISOString(),
      settings: { connections, durationSeconds: durationMs / 1000, warmupSeconds: warmupMs / 1000, runs },
      environment: {
        node: process.version,
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        database: process.env.DATABASE_URL ? 'postgres' : 'pglite',
        rateLimitStore: process.env.REDIS_URL ? 'redis' : 'memory',
        uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
        argon2: { memoryCost: 19_456, timeCost: 2, parallelism: 1 },
      },
      p3,
      p8,
      ratios,
      goals: { P3: '≥ 0.5', P8: '≥ 0.8' },
      nonSuccessRuns: unintended.map((entry) => ({ statusCounts: entry.statusCounts, errors: entry.errors })),
    };
    const dir = path.join(here, 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `platform-${started.toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

    console.log('');
    console.log('| metric | baseline (median) | target (median) | ratio | goal |');
    console.log('|---|---|---|---|---|');
    console.log(
      `| P3 hello req/s | bare ${fmt(p3.bare.medianRps, 0)} | authenticated ${fmt(p3.authenticated.medianRps, 0)} | ${fmt(ratios.P3, 2)} | ≥ 0.5 |`,
    );
    console.log(
      `| (diagnostic) full stack, no token | bare ${fmt(p3.bare.medianRps, 0)} | anonymous ${fmt(p3.diagnosticAnonymousFullStack.medianRps, 0)} | ${fmt(p3.diagnosticAnonymousFullStack.medianRps / p3.bare.medianRps, 2)} | |`,
    );
    console.log(
      `| P8 per second | argon2 verify ${fmt(p8.medianArgon2PerSecond)} | login ${fmt(p8.login.medianRps)} | ${fmt(ratios.P8, 2)} | ≥ 0.8 |`,
    );
    console.log(
      `| p99 ms | bare ${fmt(p3.bare.medianP99Ms)} | authenticated ${fmt(p3.authenticated.medianP99Ms)} · login ${fmt(p8.login.medianP99Ms)} | | |`,
    );
    if (unintended.length) console.log(`note: ${unintended.length} run(s) had non-2xx answers or errors; see the JSON`);
    console.log(`\nwritten to ${path.relative(root, file)}`);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    await database?.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
