import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SYSTEM_CONTEXT } from '../src/audit/record-audit.ts';
import { loadConfig } from '../src/config.ts';
import type { ApiRouter } from '../src/http/openapi/route.ts';
import { gcraStep } from '../src/http/rate-limit-gcra.ts';
import { createMemoryRateLimitStore } from '../src/http/rate-limit-memory-store.ts';
import { type RateLimitPolicyName, updateRateLimitPolicies } from '../src/http/rate-limit-policies.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { createTestDatabase, type TestDatabase } from '@instainstru/db/testing';
import { startTestApi, type TestApi, type TestApiOptions } from './support/api.ts';
import { auditRows, loginAs } from './support/auth.ts';
import { freePort, type RedisProcess, startRedisServer } from './support/redis.ts';

const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** default 5/min, auth 2/s (fast to recover), payment 3/min and fail-closed (built-in). */
const TEST_POLICIES = JSON.stringify({
  default: { limit: 5, periodSeconds: 60 },
  auth: { limit: 2, periodSeconds: 1 },
  payment: { limit: 3, periodSeconds: 60 },
});

/** One throwaway route per policy, registered through the app's extraRoutes hook. */
function limitedRoutes(api: ApiRouter): void {
  for (const policy of ['default', 'auth', 'payment'] as const satisfies readonly RateLimitPolicyName[]) {
    api.add(
      {
        method: 'get',
        path: `/test/limited/${policy}`,
        operationId: `testLimited_${policy}`,
        summary: `Test route under the ${policy} policy`,
        tags: ['test'],
        auth: 'public',
        rateLimit: policy,
        responses: { 200: { description: 'ok', schema: z.object({ ok: z.literal(true) }) } },
      },
      (_req, res) => {
        res.json({ ok: true });
      },
    );
  }
}

let ipCounter = 0;
/** Each test acts as fresh clients (the app trusts X-Forwarded-For from loopback). */
function newClientIp(): string {
  ipCounter += 1;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

async function hit(api: TestApi, policy: 'default' | 'auth' | 'payment', ip: string) {
  const started = performance.now();
  const response = await api.request(`/api/v1/test/limited/${policy}`, { headers: { 'x-forwarded-for': ip } });
  return { ...response, ms: performance.now() - started };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// One migrated database for every app in this file (each app is one API process).
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.cleanup();
});
const startApi = (options: TestApiOptions) => startTestApi({ database, ...options });

describe('rate-limit configuration', () => {
  it('stops start-up with a message naming the variable when RATE_LIMIT_POLICIES is wrong', () => {
    expect(() => loadConfig({ RATE_LIMIT_POLICIES: '{auth:' })).toThrow(/RATE_LIMIT_POLICIES: must be JSON/);
    expect(() => loadConfig({ RATE_LIMIT_POLICIES: '{"auth":{"limit":0}}' })).toThrow(/RATE_LIMIT_POLICIES\.auth\.limit/);
    expect(() => loadConfig({ RATE_LIMIT_POLICIES: '{"search":{"limit":5}}' })).toThrow(/RATE_LIMIT_POLICIES/);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(loadConfig({ RATE_LIMIT_POLICIES: '{"auth":{"limit":5}}' }).rateLimitPolicies).toEqual({ auth: { limit: 5 } });
  });
});

describe('GCRA arithmetic', () => {
  const policy = { limit: 5, periodSeconds: 60 };
  it.each([
    { burst: 4, allowed: true, remaining: 1 },
    { burst: 5, allowed: true, remaining: 0 },
    { burst: 6, allowed: false, remaining: 0 },
  ])('a burst of $burst at one instant: last allowed=$allowed, remaining $remaining', ({ burst, allowed, remaining }) => {
    let tat: number | undefined;
    let last = gcraStep(undefined, 0, policy).decision;
    tat = gcraStep(undefined, 0, policy).tatMicros;
    for (let index = 1; index < burst; index += 1) {
      const step = gcraStep(tat, 0, policy);
      tat = step.tatMicros;
      last = step.decision;
    }
    expect(last.allowed).toBe(allowed);
    expect(last.remaining).toBe(remaining);
    expect(last.retryAfterSeconds).toBe(allowed ? 0 : 12);
  });

  it('gives one request back per emission interval, to the microsecond', () => {
    let tat: number | undefined;
    for (let index = 0; index < 5; index += 1) tat = gcraStep(tat, 0, policy).tatMicros;
    expect(gcraStep(tat, 11_999_999, policy).decision.allowed).toBe(false);
    const after = gcraStep(tat, 12_000_000, policy);
    expect(after.decision).toMatchObject({ allowed: true, remaining: 0 });
    expect(gcraStep(after.tatMicros, 12_000_000, policy).decision).toMatchObject({ allowed: false, retryAfterSeconds: 12 });
    // a minute of silence restores the whole burst
    expect(gcraStep(after.tatMicros, 72_000_000, policy).decision).toMatchObject({ allowed: true, remaining: 4, resetSeconds: 12 });
  });

  it('keeps limits that do not divide the period exact', () => {
    const odd = { limit: 7, periodSeconds: 1 };
    let tat: number | undefined;
    const outcomes: boolean[] = [];
    for (let index = 0; index < 8; index += 1) {
      const step = gcraStep(tat, 1_000, odd);
      tat = step.tatMicros;
      outcomes.push(step.decision.allowed);
    }
    expect(outcomes).toEqual([true, true, true, true, true, true, true, false]);
  });
});

describe.each([
  { store: 'memory' as const, redisUrl: null },
  { store: 'redis' as const, redisUrl: SHARED_REDIS_URL },
])('rate limits over HTTP, $store store', ({ store, redisUrl }) => {
  let api: TestApi;
  let inspector: Redis | undefined;

  beforeAll(async () => {
    api = await startApi({ redisUrl, env: { RATE_LIMIT_POLICIES: TEST_POLICIES }, extraRoutes: limitedRoutes });
    if (redisUrl) inspector = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await inspector?.quit();
    await api?.close();
  });

  it(`counts in the ${store} store`, async () => {
    expect(api.deps.rateLimiter.backend).toBe(store);
    const ip = newClientIp();
    expect((await hit(api, 'default', ip)).status).toBe(200);
    if (inspector) {
      const ttl = await inspector.pttl(`${api.config.redisKeyPrefix}rl:default:ip:${ip}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(12_000);
      expect(api.deps.rateLimiter.memoryKeys()).toBe(0);
    } else {
      expect(api.deps.rateLimiter.memoryKeys()).toBeGreaterThan(0);
    }
  });

  it('allows limit−1 and limit requests, refuses limit+1 with 429, Retry-After and RateLimit headers', async () => {
    const ip = newClientIp();
    const remaining: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      const response = await hit(api, 'default', ip);
      expect(response.status).toBe(200);
      remaining.push(response.headers.get('ratelimit-remaining') ?? '');
    }
    expect(remaining).toEqual(['4', '3', '2', '1']);
    const fifth = await hit(api, 'default', ip);
    expect(fifth.status).toBe(200);
    expect(fifth.headers.get('ratelimit-limit')).toBe('5');
    expect(fifth.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(fifth.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(59);
    expect(Number(fifth.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(60);

    const sixth = await hit(api, 'default', ip);
    expect(sixth.status).toBe(429);
    expect(sixth.headers.get('retry-after')).toBe('12');
    expect(sixth.headers.get('ratelimit-limit')).toBe('5');
    expect(sixth.headers.get('ratelimit-remaining')).toBe('0');
    expect(sixth.body).toEqual({ detail: 'Too many requests; try again in 12 seconds.', code: 'rate_limited', field: null });
  });

  it('decides concurrent requests atomically: exactly the limit passes', async () => {
    const ip = newClientIp();
    const responses = await Promise.all(Array.from({ length: 12 }, () => hit(api, 'default', ip)));
    expect(responses.filter((response) => response.status === 200)).toHaveLength(5);
    expect(responses.filter((response) => response.status === 429)).toHaveLength(7);
  });

  it('gives requests back at the sustained rate (2 per second)', async () => {
    const ip = newClientIp();
    expect((await hit(api, 'auth', ip)).status).toBe(200);
    expect((await hit(api, 'auth', ip)).status).toBe(200);
    const refused = await hit(api, 'auth', ip);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    await sleep(600);
    expect((await hit(api, 'auth', ip)).status).toBe(200);
    expect((await hit(api, 'auth', ip)).status).toBe(429);
    await sleep(1_100);
    expect((await hit(api, 'auth', ip)).status).toBe(200);
    expect((await hit(api, 'auth', ip)).status).toBe(200);
  });

  it('keeps separate allowances per client and per policy', async () => {
    const greedy = newClientIp();
    for (let index = 0; index < 5; index += 1) await hit(api, 'default', greedy);
    expect((await hit(api, 'default', greedy)).status).toBe(429);
    expect((await hit(api, 'default', newClientIp())).status).toBe(200);
    expect((await hit(api, 'auth', greedy)).status).toBe(200);
  });
});

describe('shadow mode', () => {
  let api: TestApi;
  const lines: Array<{ msg?: string; policy?: string; identity?: string }> = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        callback();
      },
    });
    api = await startApi({
      redisUrl: null,
      env: { RATE_LIMIT_POLICIES: JSON.stringify({ default: { limit: 2, periodSeconds: 60, mode: 'shadow' } }) },
      extraRoutes: limitedRoutes,
      logger: pino({ level: 'warn' }, sink),
    });
  });
  afterAll(async () => api?.close());

  it('lets every request through, sends no limit headers, and logs each one it would have refused', async () => {
    const ip = newClientIp();
    const responses = [];
    for (let index = 0; index < 5; index += 1) responses.push(await hit(api, 'default', ip));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    expect(responses.every((response) => response.headers.get('ratelimit-limit') === null)).toBe(true);
    const shadowed = lines.filter((line) => line.msg === 'rate limit exceeded (shadow mode: allowed)');
    expect(shadowed).toHaveLength(3);
    expect(shadowed[0]).toMatchObject({ policy: 'default' });
    // the log names the client without its address
    expect(shadowed[0]?.identity).toMatch(/^ip#[0-9a-f]{12}$/);
    expect(JSON.stringify(lines)).not.toContain(ip);
  });
});

describe('policies changed at run time', () => {
  let first: TestApi;
  let second: TestApi;

  beforeAll(async () => {
    first = await startApi({ redisUrl: null, extraRoutes: limitedRoutes, env: { RATE_LIMIT_REFRESH_MS: '200' } });
    // a second API process on the same database
    second = await startApi({ redisUrl: null, extraRoutes: limitedRoutes, env: { RATE_LIMIT_REFRESH_MS: '200' } });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('reach every process through the overrides table, audited with before and after', async () => {
    expect((await hit(second, 'default', newClientIp())).headers.get('ratelimit-limit')).toBe('300');
    await updateRateLimitPolicies(
      first.database,
      first.deps.rateLimiter.policies,
      SYSTEM_CONTEXT,
      { default: { limit: 3, periodSeconds: 30, mode: 'enforce', failClosed: false } },
      'user:admin-test',
    );
    expect((await hit(first, 'default', newClientIp())).headers.get('ratelimit-limit')).toBe('3');
    await expect
      .poll(async () => (await hit(second, 'default', newClientIp())).headers.get('ratelimit-limit'), { timeout: 2_000, interval: 100 })
      .toBe('3');
    const ip = newClientIp();
    const statuses = [];
    for (let index = 0; index < 4; index += 1) statuses.push((await hit(second, 'default', ip)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);

    const audit = await first.database.db.selectFrom('auditLog').selectAll().where('resourceType', '=', 'rate_limit_policy').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'rate_limits.update', resourceId: 'default' });
    expect(audit[0]?.before).toEqual({ limit: 300, periodSeconds: 60, mode: 'enforce', failClosed: false });
    expect(audit[0]?.after).toEqual({ limit: 3, periodSeconds: 30, mode: 'enforce', failClosed: false });

    await updateRateLimitPolicies(first.database, first.deps.rateLimiter.policies, SYSTEM_CONTEXT, { default: null }, null);
    await expect
      .poll(async () => (await hit(second, 'default', newClientIp())).headers.get('ratelimit-limit'), { timeout: 2_000, interval: 100 })
      .toBe('300');
  });
});

describe('when the configured Redis cannot be reached', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startApi({
      redisUrl: `redis://127.0.0.1:${await freePort()}`,
      env: { RATE_LIMIT_POLICIES: TEST_POLICIES },
      extraRoutes: limitedRoutes,
    });
  });
  afterAll(async () => api?.close());

  it('limits other routes in-process within 250 ms, exactly', async () => {
    const ip = newClientIp();
    const responses = [];
    for (let index = 0; index < 6; index += 1) responses.push(await hit(api, 'default', ip));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(Math.max(...responses.map((response) => response.ms))).toBeLessThan(250);
    expect(responses[5]?.headers.get('retry-after')).toBe('12');
  });

  it('refuses money routes with 503 and Retry-After within 250 ms', async () => {
    const response = await hit(api, 'payment', newClientIp());
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('unavailable');
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.ms).toBeLessThan(250);
  });

  it('still reports ready, with Redis marked down', async () => {
    const { status, body } = await api.request('/api/v1/ready');
    expect(status).toBe(200);
    expect(body.checks.redis).toMatchObject({ ok: false, critical: false });
  });
});

describe('Redis killed mid-test and restarted', () => {
  let redis: RedisProcess;
  let api: TestApi;

  beforeAll(async () => {
    redis = await startRedisServer();
    api = await startApi({ redisUrl: redis.url, env: { RATE_LIMIT_POLICIES: TEST_POLICIES }, extraRoutes: limitedRoutes });
  });
  afterAll(async () => {
    await api?.close();
    await redis?.stop();
  });

  it('falls back within 250 ms (money routes 503) and returns to Redis within 5 s of its restart', async () => {
    const ip = newClientIp();
    expect((await hit(api, 'payment', ip)).status).toBe(200);
    expect((await api.request('/api/v1/ready')).body.checks.redis.ok).toBe(true);

    await redis.kill();
    for (let index = 0; index < 5; index += 1) {
      const other = await hit(api, 'default', ip);
      expect(other.status).toBe(200);
      expect(other.ms).toBeLessThan(250);
      const money = await hit(api, 'payment', ip);
      expect(money.status).toBe(503);
      expect(money.headers.get('retry-after')).toBe('2');
      expect(money.ms).toBeLessThan(250);
    }
    expect(api.deps.rateLimiter.memoryKeys()).toBeGreaterThan(0);

    await redis.restart();
    const restartedAt = Date.now();
    await expect.poll(async () => (await hit(api, 'payment', newClientIp())).status, { timeout: 5_000, interval: 100 }).toBe(200);
    expect(Date.now() - restartedAt).toBeLessThan(5_000);
    // the limit is shared again: counted in the restarted server
    const inspector = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    const ipAfter = newClientIp();
    await hit(api, 'payment', ipAfter);
    expect(await inspector.exists(`${api.config.redisKeyPrefix}rl:payment:ip:${ipAfter}`)).toBe(1);
    await inspector.quit();
  });
});

describe('Redis hanging (SIGSTOP)', () => {
  let redis: RedisProcess;
  let api: TestApi;

  beforeAll(async () => {
    redis = await startRedisServer();
    api = await startApi({ redisUrl: redis.url, env: { RATE_LIMIT_POLICIES: TEST_POLICIES }, extraRoutes: limitedRoutes });
  });
  afterAll(async () => {
    redis?.resume();
    await api?.close();
    await redis?.stop();
  });

  it('answers within 250 ms while Redis does not answer, then uses Redis again when it wakes', async () => {
    const ip = newClientIp();
    expect((await hit(api, 'default', ip)).status).toBe(200);
    redis.pause();
    const during = [];
    for (let index = 0; index < 4; index += 1) during.push(await hit(api, index % 2 ? 'payment' : 'default', ip));
    expect(during.map((response) => response.status)).toEqual([200, 503, 200, 503]);
    for (const response of during) expect(response.ms).toBeLessThan(250);
    redis.resume();
    await expect.poll(async () => (await hit(api, 'payment', newClientIp())).status, { timeout: 5_000, interval: 100 }).toBe(200);
  });
});

describe('bounded memory in the in-process store', () => {
  it('holds at most maxKeys whatever the number of distinct callers, and sweeps expired ones', async () => {
    const clock = fixedClock('2030-01-01T00:00:00Z');
    const store = createMemoryRateLimitStore({ maxKeys: 1_000, clock });
    const policy = { limit: 10, periodSeconds: 1 };
    const started = performance.now();
    for (let index = 0; index < 100_000; index += 1) {
      await store.hit(`ip:${index}`, policy);
      if (index % 1_000 === 0) clock.advance(10);
    }
    const perSecond = 100_000 / ((performance.now() - started) / 1000);
    expect(store.size()).toBeLessThanOrEqual(1_000);
    expect(perSecond).toBeGreaterThan(10_000);
    clock.advance(1_000);
    store.sweep();
    expect(store.size()).toBe(0);
  });

  it('drops expired keys as new ones arrive, before reaching the cap', async () => {
    const clock = fixedClock('2030-01-01T00:00:00Z');
    const store = createMemoryRateLimitStore({ maxKeys: 100_000, clock });
    const policy = { limit: 10, periodSeconds: 1 };
    // 20,000 distinct callers over 20 simulated seconds, 1,000 a second: only the last second's stay
    for (let index = 0; index < 20_000; index += 1) {
      await store.hit(`ip:${index}`, policy);
      clock.advance(1);
    }
    expect(store.size()).toBeLessThanOrEqual(1_100);
  });

  describe('over HTTP', () => {
    let api: TestApi;
    beforeAll(async () => {
      api = await startApi({ redisUrl: null, env: { RATE_LIMIT_MEMORY_MAX_KEYS: '200' }, extraRoutes: limitedRoutes });
    });
    afterAll(async () => api?.close());

    it('stays within RATE_LIMIT_MEMORY_MAX_KEYS under 1,000 distinct clients', async () => {
      for (let batch = 0; batch < 20; batch += 1) {
        const responses = await Promise.all(Array.from({ length: 50 }, () => hit(api, 'default', newClientIp())));
        expect(responses.every((response) => response.status === 200)).toBe(true);
      }
      expect(api.deps.rateLimiter.memoryKeys()).toBeLessThanOrEqual(200);
    });
  });
});

describe('identity chain and the admin endpoint', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startApi({
      redisUrl: null,
      extraRoutes: limitedRoutes,
      env: { RATE_LIMIT_POLICIES: JSON.stringify({ default: { limit: 3, periodSeconds: 60 }, auth: { limit: 1000 } }) },
    });
  });
  afterAll(async () => api?.close());

  const limitedAs = (headers: Record<string, string>, ip: string) =>
    api.request('/api/v1/test/limited/default', { headers: { ...headers, 'x-forwarded-for': ip } });

  it('limits a signed-in user per user, whatever their address, and anonymous callers per address', async () => {
    const alice = await loginAs(api, 'student');
    const bob = await loginAs(api, 'student');
    const sharedIp = newClientIp();
    const statuses = [];
    for (const ip of [newClientIp(), newClientIp(), newClientIp(), newClientIp()])
      statuses.push((await limitedAs(alice.headers, ip)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    // Bob behind the same address as Alice's last request still has his own allowance, and so does that address
    expect((await limitedAs(bob.headers, sharedIp)).status).toBe(200);
    expect((await limitedAs({}, sharedIp)).status).toBe(200);
  });

  it('lets only rate_limits:manage read and change the policies', async () => {
    expect((await api.request('/api/v1/admin/rate-limits')).status).toBe(401);
    const student = await loginAs(api, 'student');
    expect((await api.request('/api/v1/admin/rate-limits', { headers: student.headers })).status).toBe(403);
    const put = await api.request('/api/v1/admin/rate-limits', {
      method: 'PUT',
      headers: student.headers,
      json: { policies: { default: { limit: 1, periodSeconds: 1, mode: 'enforce', failClosed: false } } },
    });
    expect(put.status).toBe(403);
    expect(api.deps.rateLimiter.policies.get('default').limit).toBe(3);
  });

  it('shows the policies in force and applies, audits and undoes an admin change', async () => {
    const admin = await loginAs(api, 'admin');
    const current = await api.request('/api/v1/admin/rate-limits', { headers: admin.headers });
    expect(current.status).toBe(200);
    expect(current.body.store).toBe('memory');
    expect(current.body.policies.map((policy: { name: string }) => policy.name)).toEqual([
      'default',
      'auth',
      'password_reset',
      'booking',
      'payment',
    ]);
    expect(current.body.policies[0]).toMatchObject({ name: 'default', limit: 3, periodSeconds: 60, mode: 'enforce', source: 'config' });
    expect(current.body.policies[4]).toMatchObject({ name: 'payment', failClosed: true, source: 'built_in' });

    const changed = await api.request('/api/v1/admin/rate-limits', {
      method: 'PUT',
      headers: { ...admin.headers, 'x-request-id': 'req-rl-change' },
      json: { policies: { payment: { limit: 1, periodSeconds: 60, mode: 'enforce', failClosed: true } } },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.policies[4]).toMatchObject({ name: 'payment', limit: 1, source: 'override', updatedBy: `user:${admin.userId}` });
    const ip = newClientIp();
    expect((await hit(api, 'payment', ip)).status).toBe(200);
    expect((await hit(api, 'payment', ip)).status).toBe(429);

    const audit = (await auditRows(api.database, 'rate_limits.update')).find((row) => row.requestId === 'req-rl-change');
    expect(audit).toMatchObject({
      actorType: 'user',
      actorId: admin.userId,
      resourceType: 'rate_limit_policy',
      resourceId: 'payment',
      requestId: 'req-rl-change',
    });
    expect(audit?.before).toEqual({ limit: 10, periodSeconds: 60, mode: 'enforce', failClosed: true });
    expect(audit?.after).toEqual({ limit: 1, periodSeconds: 60, mode: 'enforce', failClosed: true });
    expect(audit?.ipHash).toBeTruthy();

    const reset = await api.request('/api/v1/admin/rate-limits', {
      method: 'PUT',
      headers: admin.headers,
      json: { policies: { payment: null } },
    });
    expect(reset.body.policies[4]).toMatchObject({ name: 'payment', limit: 10, source: 'built_in', updatedBy: null });
    const resets = (await auditRows(api.database, 'rate_limits.reset')).filter((row) => row.resourceId === 'payment');
    expect(resets).toHaveLength(1);
    expect(resets[0]?.after).toEqual({ limit: 10, periodSeconds: 60, mode: 'enforce', failClosed: true });
  });

  it('refuses unknown policies and out-of-range values with 422 naming the field', async () => {
    const admin = await loginAs(api, 'admin');
    const put = (json: unknown) => api.request('/api/v1/admin/rate-limits', { method: 'PUT', headers: admin.headers, json });
    const unknown = await put({ policies: { search: { limit: 5, periodSeconds: 60, mode: 'enforce', failClosed: false } } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.field).toBe('policies.search');
    const zero = await put({ policies: { auth: { limit: 0, periodSeconds: 60, mode: 'enforce', failClosed: false } } });
    expect(zero.status).toBe(422);
    expect(zero.body.field).toBe('policies.auth.limit');
    const partial = await put({ policies: { auth: { limit: 5 } } });
    expect(partial.status).toBe(422);
    expect(api.deps.rateLimiter.policies.get('auth').limit).toBe(1000);
  });
});
