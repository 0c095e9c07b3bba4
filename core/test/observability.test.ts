import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ApiRouter } from '../src/http/openapi/route.ts';
import { AppError } from '../src/shared/errors.ts';
import { startTestApi, type TestApi } from './support/api.ts';

/**
 * A stand-in for Sentry's ingest endpoint on loopback: it accepts envelopes like sentry.io does
 * (`POST /api/<project>/envelope/`) and keeps them for the assertions. Nothing leaves the machine.
 */
async function startFakeSentry() {
  const envelopes: Array<{ url: string; headers: http.IncomingHttpHeaders; items: unknown[] }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
      envelopes.push({ url: req.url ?? '', headers: req.headers, items: lines.map((line) => JSON.parse(line)) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    dsn: `http://publickey123@127.0.0.1:${port}/4242`,
    envelopes,
    /** Error events received so far: [envelope header, item header, event] triples flattened to events. */
    events: () =>
      envelopes.flatMap((envelope) =>
        envelope.items.filter((_item, index) => (envelope.items[index - 1] as { type?: string } | undefined)?.type === 'event'),
      ) as Array<Record<string, any>>,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function failingRoutes(api: ApiRouter): void {
  const Ok = { 200: { description: 'never', schema: z.object({ ok: z.boolean() }) } };
  api.add(
    {
      method: 'post',
      path: '/test/boom/:orderId',
      operationId: 'testBoom',
      summary: 'Fails unexpectedly',
      tags: ['test'],
      auth: 'public',
      responses: Ok,
    },
    () => {
      throw new TypeError('kaboom: cannot read the thing');
    },
  );
  api.add(
    {
      method: 'get',
      path: '/test/expected-failure',
      operationId: 'testExpectedFailure',
      summary: 'Fails as designed',
      tags: ['test'],
      auth: 'public',
      responses: Ok,
    },
    () => {
      throw new AppError('slot_unavailable', 'That time is taken.');
    },
  );
}

let sentry: Awaited<ReturnType<typeof startFakeSentry>>;
let api: TestApi;

beforeAll(async () => {
  sentry = await startFakeSentry();
  api = await startTestApi({
    redisUrl: null,
    extraRoutes: failingRoutes,
    env: { SENTRY_DSN: sentry.dsn, GIT_SHA: 'abc1234', SENTRY_TRACES_SAMPLE_RATE: '0' },
  });
});
afterAll(async () => {
  await api?.close();
  await sentry?.close();
});

describe('Sentry error reporting', () => {
  it('reports an unexpected error with release, route and request id, and without secrets', async () => {
    const { status, headers, body } = await api.request('/api/v1/test/boom/ord_555?card=4242424242424242', {
      method: 'POST',
      json: { password: 'hunter2-secret' },
      headers: { cookie: 'session=cookie-secret', 'x-request-id': 'req-boom-1' },
    });
    expect(status).toBe(500);
    expect(body.code).toBe('internal_error');
    expect(headers.get('x-request-id')).toBe('req-boom-1');
    await api.deps.errorReporter.flush(5_000);

    const event = sentry.events().find((candidate) => candidate.exception?.values?.[0]?.value === 'kaboom: cannot read the thing');
    expect(event, 'the error event reached the fake Sentry').toBeDefined();
    expect(event?.release).toBe('abc1234');
    expect(event?.environment).toBe('test');
    expect(event?.exception.values[0].type).toBe('TypeError');
    expect(event?.tags).toMatchObject({ request_id: 'req-boom-1', route: '/api/v1/test/boom/{orderId}', 'http.method': 'POST' });
    expect(sentry.envelopes[0]?.url).toContain('/api/4242/envelope/');

    const everything = JSON.stringify(sentry.envelopes);
    for (const secret of ['hunter2-secret', 'cookie-secret', '4242424242424242']) expect(everything).not.toContain(secret);
  });

  it('does not report errors that are part of the contract (4xx, expected 5xx)', async () => {
    const before = sentry.events().length;
    expect((await api.request('/api/v1/test/expected-failure')).status).toBe(409);
    expect((await api.request('/api/v1/no-such-route')).status).toBe(404);
    await api.deps.errorReporter.flush(5_000);
    expect(sentry.events().length).toBe(before);
  });
});

describe('readiness with and without Redis', () => {
  it('skips the Redis check when Redis is not configured', async () => {
    const { status, body } = await api.request('/api/v1/ready');
    expect(status).toBe(200);
    expect(body.checks.redis).toEqual({ ok: true, skipped: true, critical: false });
  });

  it('pings Redis when it is configured', async () => {
    const withRedis = await startTestApi({ redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', database: api.database });
    try {
      const { status, body } = await withRedis.request('/api/v1/ready');
      expect(status).toBe(200);
      expect(body.checks.redis).toMatchObject({ ok: true, critical: false });
      expect(body.checks.redis.latencyMs).toBeTypeOf('number');
    } finally {
      await withRedis.close();
    }
  });
});
