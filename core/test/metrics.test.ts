import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ApiRouter } from '../src/http/openapi/route.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { bearer, loginAs } from './support/auth.ts';

const METRICS_TOKEN = 'scrape-token-0123456789abcdef';

function itemRoute(api: ApiRouter): void {
  api.add(
    {
      method: 'get',
      path: '/test/items/:itemId',
      operationId: 'testGetItem',
      summary: 'A route with a path parameter',
      tags: ['test'],
      auth: 'public',
      params: z.object({ itemId: z.string() }),
      responses: { 200: { description: 'An item', schema: z.object({ id: z.string() }) } },
    },
    (req, res) => {
      res.json({ id: String(req.params.itemId) });
    },
  );
}

let api: TestApi;

let scrapes = 0;
/** Each scrape comes from its own address so the test's tight default limit never refuses it. */
async function scrape(headers: Record<string, string> = bearer(METRICS_TOKEN)) {
  scrapes += 1;
  return api.request('/api/v1/metrics/prometheus', { headers: { ...headers, 'x-forwarded-for': `10.30.0.${scrapes}` } });
}

beforeAll(async () => {
  api = await startTestApi({
    redisUrl: null,
    extraRoutes: itemRoute,
    env: {
      METRICS_TOKEN,
      RATE_LIMIT_POLICIES: JSON.stringify({ default: { limit: 3, periodSeconds: 60 }, auth: { limit: 1000 } }),
    },
  });
});
afterAll(async () => {
  await api?.close();
});

describe('GET /api/v1/metrics/prometheus', () => {
  it('answers 401 without credentials and with a wrong token', async () => {
    const anonymous = await scrape({});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('unauthenticated');
    expect((await scrape(bearer('scrape-token-0123456789abcdeX'))).status).toBe(401);
    expect((await scrape(bearer(METRICS_TOKEN.slice(0, -1)))).status).toBe(401);
  });

  it('answers the Prometheus text format to the metrics token', async () => {
    const { status, headers, body } = await scrape();
    expect(status).toBe(200);
    expect(headers.get('content-type')).toContain('text/plain');
    expect(headers.get('cache-control')).toBe('no-store');
    for (const name of [
      'http_request_duration_seconds',
      'http_requests_in_flight',
      'db_pool_connections',
      'db_pool_waiting_requests',
      'rate_limit_decisions_total',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(body).toContain(`# TYPE ${name}`);
    }
    expect(body).toMatch(/db_pool_connections\{state="total"\} \d+/);
  });

  it('labels requests by route template and status, never by raw URL', async () => {
    await api.request('/api/v1/test/items/secret-item-42', { headers: { 'x-forwarded-for': '10.20.0.1' } });
    await api.request('/api/v1/no/such/route/abc', { headers: { 'x-forwarded-for': '10.20.0.1' } });
    const { body } = await scrape();
    expect(body).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/test\/items\/\{itemId\}",status_code="200"\} 1/,
    );
    expect(body).toMatch(/http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1/);
    expect(body).not.toContain('secret-item-42');
    expect(body).not.toContain('/no/such/route');
    // this scrape is in flight while it is rendered
    expect(body).toMatch(/^http_requests_in_flight 1$/m);
  });

  it('counts rate-limit decisions by policy, outcome and store', async () => {
    for (let index = 0; index < 5; index += 1) await api.request('/api/v1/test/items/x', { headers: { 'x-forwarded-for': '10.20.0.2' } });
    const { body } = await scrape();
    expect(body).toMatch(/rate_limit_decisions_total\{policy="default",outcome="limited",store="memory"\} 2/);
    expect(body).toMatch(/rate_limit_decisions_total\{policy="default",outcome="allowed",store="memory"\} \d+/);
  });

  it('accepts a signed-in principal with monitoring:access and refuses one without', async () => {
    const admin = await loginAs(api, 'admin');
    const allowed = await scrape(admin.headers);
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain('# TYPE http_request_duration_seconds histogram');
    const student = await loginAs(api, 'student');
    const refused = await scrape(student.headers);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('forbidden');
  });

  it('keeps each app’s metrics in its own registry', async () => {
    const other = await startTestApi({ redisUrl: null, database: api.database, env: { METRICS_TOKEN } });
    try {
      const response = await other.request('/api/v1/metrics/prometheus', { headers: bearer(METRICS_TOKEN) });
      expect(response.status).toBe(200);
      expect(response.body).not.toContain('/api/v1/test/items/{itemId}');
    } finally {
      await other.close();
    }
  });
});
