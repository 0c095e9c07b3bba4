// Benchmark of natural-language search (spec: reliability-and-performance.md, P1 and P2).
//
//   P1  GET /api/v1/search req/s ÷ hello req/s   (goal ≥ 0.25)
//   P2  GET /api/v1/search p99 ÷ hello p99       (goal ≤ 3)
//
// Both sides are served by one child process (search-server.ts: the real API on the demo data,
// regex parser only). hello is GET /api/v1/bench/hello of that process, anonymous like search, so
// it crosses the same middleware; a bare Express hello in the same process is reported too.
// Search runs twice:
//   warm  a dozen everyday queries, each connection cycling through them: after the warm-up every
//         answer comes from the response cache (availability versions are still checked, and every
//         search is still logged);
//   cold  the same queries, each request with a different structured price filter above every
//         rate (`maxPriceCents=100000+n`): it filters nobody out but makes each answer a cache miss,
//         so every request parses (from the parse cache), retrieves, reads availability, relaxes
//         and ranks.
// Baseline and targets alternate, each after a warm-up; medians of BENCH_RUNS runs. The load is a
// closed loop per connection over keep-alive sockets (load.ts; autocannon is not installed). Writes
// ops/bench/results/search-<time>.json and prints a table. Not a test: it never fails on speed.
//
//   npm run bench:search -w ops          BENCH_CONNECTIONS=50 BENCH_DURATION_S=10 BENCH_RUNS=3
//   DATABASE_URL=postgres://…            a fresh database on that server (PGlite in the child otherwise)
//   REDIS_URL=redis://…                  the caches in Redis instead of in-process
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

/** What students type: services, places (names, aliases, boroughs), prices, days, times, ages. */
export const QUERIES = [
  'piano lessons in park slope',
  'cheap spanish tutor online tomorrow evening',
  'guitar lessons in brooklyn',
  'math tutor on the ues',
  'swimming for my 6 year old',
  'violin for beginners',
  'sat prep under $150',
  'yoga in bed stuy',
  'french in lic',
  'music lessons',
  'tennis coach tomorrow at 6pm',
  'spanish for teens this weekend',
];

/** Every series (baseline and targets) runs through load.ts the same way; the path may change per request. */
function runLoop(baseUrl: string, pathFor: (loop: number, sent: number) => string, durationMs: number): Promise<LoadResult> {
  return runLoad({ baseUrl, connections, durationMs, request: (loop, sent) => ({ path: pathFor(loop, sent) }) });
}

interface Measured {
  runs: LoadResult[];
  medianRps: number;
  medianP99Ms: number;
  medianP50Ms: number;
}

function summarise(results: LoadResult[]): Measured {
  return {
    runs: results,
    medianRps: median(results.map((result) => result.rps)),
    medianP99Ms: median(results.map((result) => result.latencyMs.p99)),
    medianP50Ms: median(results.map((result) => result.latencyMs.p50)),
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
  const started = new Date();
  console.log('starting the API on the demo data (migrate and seed)…');
  const { child, info } = await startBenchServer(root, path.join(here, 'search-server.ts'), childEnv);
  try {
    console.log(`bench server pid ${info.pid}: api ${info.apiUrl}, bare ${info.bareUrl}`);
    console.log(`${connections} connections × ${durationMs / 1000} s, ${runs} runs each, alternating; warm-up ${warmupMs / 1000} s`);

    // every query answers 200 with results before anything is measured
    for (const q of QUERIES) {
      const response = await fetch(`${info.apiUrl}/api/v1/search?q=${encodeURIComponent(q)}`);
      const body = (await response.json()) as { total?: number };
      if (response.status !== 200 || !body.total) throw new Error(`"${q}" answered ${response.status} with ${body.total ?? 0} results`);
    }

    const query = (index: number) => encodeURIComponent(QUERIES[index % QUERIES.length]!);
    let misses = 0;
    const loads = {
      hello: (ms: number) => runLoop(info.apiUrl, () => '/api/v1/bench/hello', ms),
      bare: (ms: number) => runLoop(info.bareUrl, () => '/hello', ms),
      warm: (ms: number) => runLoop(info.apiUrl, (loop, sent) => `/api/v1/search?q=${query(loop + sent)}`, ms),
      cold: (ms: number) =>
        runLoop(
          info.apiUrl,
          (loop, sent) => {
            misses += 1;
            return `/api/v1/search?q=${query(loop + sent)}&maxPriceCents=${100_000 + misses}`;
          },
          ms,
        ),
    };

    for (const load of [loads.hello, loads.warm, loads.cold]) await load(warmupMs);
    const series: Record<'hello' | 'bare' | 'warm' | 'cold', LoadResult[]> = { hello: [], bare: [], warm: [], cold: [] };
    for (let run = 0; run < runs; run += 1) {
      for (const name of ['hello', 'warm', 'cold', 'bare'] as const) series[name].push(await loads[name](durationMs));
      const last = (name: keyof typeof series) => series[name][run]!;
      console.log(
        `  run ${run + 1}: hello ${fmt(last('hello').rps, 0)} req/s p99 ${fmt(last('hello').latencyMs.p99)} ms · ` +
          `warm search ${fmt(last('warm').rps, 0)} req/s p99 ${fmt(last('warm').latencyMs.p99)} ms · ` +
          `cold search ${fmt(last('cold').rps, 0)} req/s p99 ${fmt(last('cold').latencyMs.p99)} ms · bare ${fmt(last('bare').rps, 0)} req/s`,
      );
    }

    const m = { hello: summarise(series.hello), bare: summarise(series.bare), warm: summarise(series.warm), cold: summarise(series.cold) };
    const ratios = {
      P1_warm: m.warm.medianRps / m.hello.medianRps,
      P1_cold: m.cold.medianRps / m.hello.medianRps,
      P2_warm: m.warm.medianP99Ms / m.hello.medianP99Ms,
      P2_cold: m.cold.medianP99Ms / m.hello.medianP99Ms,
    };
    const diagnosticVsBare = {
      P1_warm: m.warm.medianRps / m.bare.medianRps,
      P1_cold: m.cold.medianRps / m.bare.medianRps,
      P2_warm: m.warm.medianP99Ms / m.bare.medianP99Ms,
      P2_cold: m.cold.medianP99Ms / m.bare.medianP99Ms,
    };
    const unintended = Object.values(series)
      .flat()
      .filter((result) => result.non2xx > 0 || result.errors > 0);
    const result = {
      benchmark: 'search',
      startedAt: started.toISOString(),
      settings: { connections, durationSeconds: durationMs / 1000, warmupSeconds: warmupMs / 1000, runs, queries: QUERIES },
      environment: {
        node: process.version,
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        database: process.env.DATABASE_URL ? 'postgres' : 'pglite',
        cache: process.env.REDIS_URL ? 'redis' : 'memory',
        parser: 'regex (no OPENAI_API_KEY)',
      },
      medians: m,
      ratios,
      diagnosticVsBareHello: diagnosticVsBare,
      goals: { P1: '≥ 0.25', P2: '≤ 3' },
      nonSuccessRuns: unintended.map((entry) => ({ statusCounts: entry.statusCounts, errors: entry.errors })),
    };
    const dir = path.join(here, 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `search-${started.toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

    console.log('');
    console.log(`search bench on ${result.environment.database}, cache ${result.environment.cache} (medians of ${runs})`);
    console.log('| metric | hello (baseline) | search warm | search cold | ratio warm | ratio cold | goal |');
    console.log('|---|---|---|---|---|---|---|');
    console.log(
      `| P1 req/s | ${fmt(m.hello.medianRps, 0)} | ${fmt(m.warm.medianRps, 0)} | ${fmt(m.cold.medianRps, 0)} | ${fmt(ratios.P1_warm, 2)} | ${fmt(ratios.P1_cold, 2)} | ≥ 0.25 |`,
    );
    console.log(
      `| P2 p99 ms | ${fmt(m.hello.medianP99Ms)} | ${fmt(m.warm.medianP99Ms)} | ${fmt(m.cold.medianP99Ms)} | ${fmt(ratios.P2_warm, 2)} | ${fmt(ratios.P2_cold, 2)} | ≤ 3 |`,
    );
    console.log(
      `| (diagnostic) vs bare hello ${fmt(m.bare.medianRps, 0)} req/s, p99 ${fmt(m.bare.medianP99Ms)} ms | | | | ${fmt(diagnosticVsBare.P1_warm, 2)} / ${fmt(diagnosticVsBare.P2_warm, 2)} | ${fmt(diagnosticVsBare.P1_cold, 2)} / ${fmt(diagnosticVsBare.P2_cold, 2)} | |`,
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
