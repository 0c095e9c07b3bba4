import { truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './support/api.ts';
import { createCatalogService, createInstructor } from './support/factories.ts';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.close();
});

describe('health and readiness', () => {
  it('answers liveness without touching the database', async () => {
    const { status, body } = await api.request('/api/v1/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', service: 'instainstru-api' });
  });

  it('reports ready when the database answers and migrations are current', async () => {
    const { status, body } = await api.request('/api/v1/ready');
    expect(status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.checks.database.ok).toBe(true);
    expect(body.checks.migrations.ok).toBe(true);
  });
});

describe('security headers and CORS', () => {
  it('sends HSTS, a deny-all CSP, nosniff and frame deny, and a request id', async () => {
    const { headers } = await api.request('/api/v1/health');
    expect(headers.get('strict-transport-security')).toContain('max-age=31536000');
    expect(headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers.get('x-powered-by')).toBeNull();
  });

  it('allows configured origins with credentials and nobody else', async () => {
    const allowed = await api.request('/api/v1/health', { headers: { origin: 'http://localhost:5173' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await api.request('/api/v1/health', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('keeps a well-formed caller request id and replaces a malformed one', async () => {
    const kept = await api.request('/api/v1/health', { headers: { 'x-request-id': 'trace-123' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-123');
    const replaced = await api.request('/api/v1/health', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(replaced.headers.get('x-request-id')).not.toBe('bad id with spaces');
  });
});

describe('error shape', () => {
  it('answers an unknown route with 404 {detail, code, field}', async () => {
    const { status, body } = await api.request('/api/v1/nope');
    expect(status).toBe(404);
    expect(body).toEqual({ detail: 'No route for GET /api/v1/nope.', code: 'not_found', field: null });
  });

  it('answers malformed JSON with 400 and a non-JSON body with 415', async () => {
    const malformed = await api.request('/api/v1/instructors', {
      method: 'POST',
      body: '{"a":',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ code: 'bad_request', field: null });
    const form = await api.request('/api/v1/instructors', {
      method: 'POST',
      body: 'a=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expect(form.body.code).toBe('unsupported_media_type');
  });

  it('answers an oversized body with 413', async () => {
    const { status, body } = await api.request('/api/v1/instructors', { method: 'POST', json: { blob: 'x'.repeat(200_000) } });
    expect(status).toBe(413);
    expect(body.code).toBe('payload_too_large');
  });

  it('rejects unknown and out-of-range query parameters with 422 naming the field', async () => {
    const unknown = await api.request('/api/v1/instructors?colour=blue');
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ code: 'validation_error', field: 'colour' });
    const tooMany = await api.request('/api/v1/instructors?limit=101');
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.field).toBe('limit');
    const garbage = await api.request('/api/v1/instructors?cursor=not-a-cursor');
    expect(garbage.status).toBe(422);
    expect(garbage.body.field).toBe('cursor');
  });
});

describe('GET /api/v1/instructors', () => {
  beforeEach(async () => truncateAll(api.database));

  it('answers an empty list when nobody teaches yet', async () => {
    const { status, body } = await api.request('/api/v1/instructors');
    expect(status).toBe(200);
    expect(body).toEqual({ items: [], nextCursor: null });
  });

  it('pages through live instructors with an opaque cursor, each once, without private fields', async () => {
    const piano = await createCatalogService(api.database, { name: 'Piano' });
    const created: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      created.push((await createInstructor(api.database, { firstName: `Teacher${index}`, lastName: 'smith', serviceId: piano })).id);
    }
    await createInstructor(api.database, { firstName: 'Hidden', isLive: false });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const { status, body } = await api.request(`/api/v1/instructors${query}`);
      expect(status).toBe(200);
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((item: { id: string }) => item.id));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);

    expect(pages).toBe(3);
    expect(seen).toEqual([...created].sort());
    const first = (await api.request('/api/v1/instructors?limit=1')).body.items[0];
    expect(first.name).toBe('Teacher0 S.');
    expect(first.services).toEqual([
      {
        serviceId: piano,
        name: 'Piano',
        category: 'Music',
        hourlyRateCents: 9000,
        durations: [30, 60],
        locationTypes: ['online', 'instructor_location'],
      },
    ]);
    expect(first).not.toHaveProperty('email');
    expect(JSON.stringify(first)).not.toMatch(/@example\.com/);
  });

  it('filters by service', async () => {
    const piano = await createCatalogService(api.database, { name: 'Piano' });
    const guitar = await createCatalogService(api.database, { name: 'Guitar' });
    const pianist = await createInstructor(api.database, { serviceId: piano });
    await createInstructor(api.database, { serviceId: guitar });
    const { body } = await api.request(`/api/v1/instructors?serviceId=${piano}`);
    expect(body.items.map((item: { id: string }) => item.id)).toEqual([pianist.id]);
  });
});
