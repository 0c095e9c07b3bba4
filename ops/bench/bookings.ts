// Benchmark of bookings and public availability (spec: reliability-and-performance.md, P4 and P5).
//
//   P4  POST /api/v1/bookings req/s ÷ raw pg INSERT rate into the same constrained table   (goal ≥ 0.25)
//   P5  public availability of one instructor × 30 days, p95 ÷ hello p95:
//       uncached (cache bumped before every request) ≤ 10, cached ≤ 2
//
// The API runs in this process (real Express app, real database, idempotency, rate limiting with
// a limit nobody reaches, RBAC); hello is GET /api/v1/health of the same app. Each connection books
// for its own instructor and student, on successive free slots, so every booking is a 201. Runs
// alternate baseline and target; medians of BENCH_RUNS. Writes ops/bench/results/bookings-<time>.json
// and prints a table. Not a test: never fails on speed.
//
//   npx tsx ops/bench/bookings.ts           BENCH_CONNECTIONS=50 BENCH_DURATION_S=10 BENCH_RUNS=3
//   DATABASE_URL=postgres://…               a fresh database on that server (PGlite otherwise)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newId } from '../../db/src/ids.ts';
import { addDays, localDayAndMinute } from '../../core/src/availability/local-time.ts';
import { invalidateAvailability } from '../../core/src/http/routes/public-availability.ts';
import { startTestApi } from '../../core/test/support/api.ts';
import { createBookableInstructor, tokenHeaders } from '../../core/test/support/bookings.ts';
import { createUser } from '../../core/test/support/factories.ts';
import { median, percentile } from './load.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const durationMs = Number(process.env.BENCH_DURATION_S ?? 10) * 1000;
const warmupMs = Number(process.env.BENCH_WARMUP_S ?? 2) * 1000;
const runs = Number(process.env.BENCH_RUNS ?? 3);
const DAY_MS = 86_400_000;
const STEP_MS = 45 * 60_000; // a 30-minute online lesson plus its 15-minute buffer

interface Measured {
  requests: number;
  rps: number;
  p95: number;
  p99: number;
  statusCounts: Record<string, number>;
}

/** Closed loop: `connections` loops each await `op(loop)` until the time is up. */
async function closedLoop(op: (loop: number) => Promise<number>, ms: number): Promise<Measured> {
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  const started = performance.now();
  const endAt = started + ms;
  await Promise.all(
    Array.from({ length: connections }, async (_, loop) => {
      while (performance.now() < endAt) {
        const sent = performance.now();
        const status = await op(loop).catch(() => 0);
        if (performance.now() > endAt) break;
        latencies.push(performance.now() - sent);
        statusCounts[status] = (statusCounts[status] ?? 0) + 1;
      }
    }),
  );
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    rps: latencies.length / (ms / 1000),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    statusCounts,
  };
}

async function main(): Promise<void> {
  const api = await startTestApi({
    redisUrl: null,
    env: {
      NODE_ENV: 'production',
      RATE_LIMIT_POLICIES: JSON.stringify({ default: { limit: 1_000_000 }, booking: { limit: 1_000_000 } }),
      AVAILABILITY_CACHE_TTL_SECONDS: '3600',
    },
  });
  const db = api.database.db;
  const today = localDayAndMinute(Date.now()).day;
  const days = Array.from({ length: 365 }, (_, index) => addDays(today, index + 1));
  const open = [{ start: 9 * 60, end: 21 * 60 }];
  console.error(`bench: preparing ${connections * 2 + 1} instructors on ${api.database.url ? 'PostgreSQL' : 'PGlite'}…`);
  const serviceInstructor = await createBookableInstructor(api, { days, ranges: open, durations: [30, 60], locationTypes: ['online'] });
  const serviceId = serviceInstructor.serviceId;
  const apiSide: Array<{ instructorId: string; headers: Record<string, string>; next: number }> = [];
  const rawSide: Array<{ instructorId: string; studentId: string; instructorServiceId: string; next: number }> = [];
  const firstStart = Date.parse(`${addDays(today, 2)}T14:00:00Z`); // 09:00 EST / 10:00 EDT: inside the open hours
  for (let loop = 0; loop < connections; loop += 1) {
    const instructor = await createBookableInstructor(api, { serviceId, days, ranges: open, durations: [30], locationTypes: ['online'] });
    const studentId = await createUser(api.database);
    apiSide.push({ instructorId: instructor.instructorId, headers: tokenHeaders(api, studentId, ['student']), next: firstStart });
    const raw = await createBookableInstructor(api, { serviceId, days: [], durations: [30], locationTypes: ['online'] });
    const offering = await db
      .selectFrom('instructorServices')
      .select('id')
      .where('instructorId', '=', raw.instructorId)
      .executeTakeFirstOrThrow();
    rawSide.push({
      instructorId: raw.instructorId,
      studentId: await createUser(api.database),
      instructorServiceId: offering.id,
      next: firstStart,
    });
  }

  // successive starts inside 09:00–20:30 local (UTC 14:00–01:30 in winter), day after day
  const advance = (slot: { next: number }) => {
    const start = slot.next;
    slot.next += STEP_MS;
    const minuteOfDay = ((slot.next - firstStart) % DAY_MS) / 60_000;
    if (minuteOfDay > 10 * 60) slot.next = firstStart + Math.ceil((slot.next - firstStart) / DAY_MS) * DAY_MS;
    return start;
  };
  let keys = 0;
  const bookViaApi = async (loop: number) => {
    const slot = apiSide[loop]!;
    keys += 1;
    const response = await fetch(`${api.baseUrl}/api/v1/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `bench-${keys}-${loop}`, ...slot.headers },
      body: JSON.stringify({
        instructorId: slot.instructorId,
        serviceId,
        startsAt: new Date(advance(slot)).toISOString(),
        durationMinutes: 30,
        locationType: 'online',
      }),
    });
    await response.arrayBuffer();
    return response.status;
  };
  const insertRaw = async (loop: number) => {
    const slot = rawSide[loop]!;
    const start = advance(slot);
    await db
      .insertInto('bookings')
      .values({
        id: newId(),
        studentId: slot.studentId,
        instructorId: slot.instructorId,
        serviceId,
        instructorServiceId: slot.instructorServiceId,
        status: 'pending_payment',
        startsAt: new Date(start),
        endsAt: new Date(start + 30 * 60_000),
        durationMinutes: 30,
        bufferMinutes: 15,
        locationType: 'online',
        hourlyRateCents: 9000,
        lessonPriceCents: 4500,
        studentFeeCents: 540,
        instructorFeeBps: 1500,
        instructorFeeCents: 675,
        instructorPayoutCents: 3825,
        holdExpiresAt: new Date(Date.now() + 15 * 60_000),
      })
      .execute();
    return 201;
  };
  const availabilityUrl = `${api.baseUrl}/api/v1/public/instructors/${serviceInstructor.instructorId}/availability?serviceId=${serviceId}&durationMinutes=60&locationType=online&from=${addDays(today, 1)}&to=${addDays(today, 30)}`;
  const get = async (url: string) => {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.status;
  };
  const uncached = async () => {
    await invalidateAvailability(api.deps, serviceInstructor.instructorId);
    return get(availabilityUrl);
  };
  const cached = () => get(availabilityUrl);
  const hello = () => get(`${api.baseUrl}/api/v1/health`);

  const series: Record<'api' | 'raw' | 'uncached' | 'cached' | 'hello', Measured[]> = {
    api: [],
    raw: [],
    uncached: [],
    cached: [],
    hello: [],
  };
  const ops = { raw: insertRaw, api: bookViaApi, hello, uncached, cached } as const;
  for (const [name, op] of Object.entries(ops)) await closedLoop(op, warmupMs).then(() => console.error(`bench: warmed ${name}`));
  for (let run = 0; run < runs; run += 1) {
    for (const [name, op] of Object.entries(ops)) {
      const measured = await closedLoop(op, durationMs);
      series[name as keyof typeof series].push(measured);
      console.error(
        `bench: run ${run + 1} ${name}: ${measured.rps.toFixed(0)} req/s, p95 ${measured.p95.toFixed(1)} ms, ${JSON.stringify(measured.statusCounts)}`,
      );
    }
  }
  const med = (name: keyof typeof series, key: 'rps' | 'p95') => median(series[name].map((measured) => measured[key]));
  const ratios = {
    P4: med('api', 'rps') / med('raw', 'rps'),
    P5_uncached: med('uncached', 'p95') / med('hello', 'p95'),
    P5_cached: med('cached', 'p95') / med('hello', 'p95'),
  };
  const result = {
    at: new Date().toISOString(),
    engine: api.database.url ? 'postgresql' : 'pglite',
    node: process.version,
    cpus: os.cpus().length,
    connections,
    durationMs,
    runs,
    medians: {
      bookingsApiRps: med('api', 'rps'),
      rawInsertRps: med('raw', 'rps'),
      availabilityUncachedP95Ms: med('uncached', 'p95'),
      availabilityCachedP95Ms: med('cached', 'p95'),
      helloP95Ms: med('hello', 'p95'),
    },
    ratios,
    goals: { P4: '≥ 0.25', P5_uncached: '≤ 10', P5_cached: '≤ 2' },
    series,
  };
  const file = path.join(here, 'results', `bookings-${result.at.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  const fmt = (value: number, digits = 1) => value.toFixed(digits);
  console.log(
    [
      `bookings bench on ${result.engine}, ${connections} connections, ${runs} × ${durationMs / 1000} s (medians)`,
      '| id | baseline | target | ratio | goal |',
      '|---|---|---|---|---|',
      `| P4 req/s | raw insert ${fmt(med('raw', 'rps'), 0)} | POST /bookings ${fmt(med('api', 'rps'), 0)} | ${fmt(ratios.P4, 2)} | ≥ 0.25 |`,
      `| P5 p95 uncached | hello ${fmt(med('hello', 'p95'))} ms | availability ${fmt(med('uncached', 'p95'))} ms | ${fmt(ratios.P5_uncached, 2)} | ≤ 10 |`,
      `| P5 p95 cached | hello ${fmt(med('hello', 'p95'))} ms | availability ${fmt(med('cached', 'p95'))} ms | ${fmt(ratios.P5_cached, 2)} | ≤ 2 |`,
      `written to ${path.relative(process.cwd(), file)}`,
    ].join('\n'),
  );
  await api.close();
}

await main();
