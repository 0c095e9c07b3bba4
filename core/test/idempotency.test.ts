import { sql } from 'kysely';
import { truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ApiDeps } from '../src/http/deps.ts';
import { canonicalJson, idempotency, idempotencyKeyHeaders } from '../src/http/idempotency.ts';
import type { ApiRouter } from '../src/http/openapi/route.ts';
import { AppError } from '../src/shared/errors.ts';
import { startTestApi, type TestApi } from './support/api.ts';

const Thing = z.object({ id: z.number().int(), name: z.string(), tags: z.array(z.string()) });
const CreateThingBody = z.object({ name: z.string().min(1), tags: z.array(z.string()).default([]) }).strict();

/** How many times each test route's handler really ran. */
const runs = { things: 0, optional: 0, flaky: 0 };
let nextId = 1;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creating routes that exist only in this test, wired like real ones through the app's extraRoutes hook. */
function creatingRoutes(api: ApiRouter, deps: ApiDeps): void {
  const created = { 201: { description: 'Created', schema: Thing } };
  api.add(
    {
      method: 'post',
      path: '/test/things',
      operationId: 'testCreateThing',
      summary: 'Creates a thing (slowly, so duplicates overlap)',
      tags: ['test'],
      auth: 'public',
      headers: idempotencyKeyHeaders({ required: true }),
      body: CreateThingBody,
      responses: created,
    },
    idempotency(deps, { required: true }),
    async (req, res) => {
      const input = CreateThingBody.parse(req.body);
      runs.things += 1;
      await sleep(150);
      res.status(201).json({ id: nextId++, ...input });
    },
  );
  api.add(
    {
      method: 'post',
      path: '/test/things-optional',
      operationId: 'testCreateThingOptionalKey',
      summary: 'Creates a thing; the key is optional',
      tags: ['test'],
      auth: 'public',
      headers: idempotencyKeyHeaders(),
      body: CreateThingBody,
      responses: created,
    },
    idempotency(deps),
    (req, res) => {
      runs.optional += 1;
      res.status(201).json({ id: nextId++, ...CreateThingBody.parse(req.body) });
    },
  );
  api.add(
    {
      method: 'post',
      path: '/test/flaky',
      operationId: 'testCreateFlaky',
      summary: 'Fails on our side the first time, succeeds the second',
      tags: ['test'],
      auth: 'public',
      headers: idempotencyKeyHeaders({ required: true }),
      body: CreateThingBody,
      responses: created,
    },
    idempotency(deps, { required: true }),
    (req, res) => {
      runs.flaky += 1;
      if (runs.flaky === 1)
        throw new AppError('database_unavailable', 'The database is temporarily unavailable; please retry shortly.', null, 5);
      res.status(201).json({ id: nextId++, ...CreateThingBody.parse(req.body) });
    },
  );
}

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ extraRoutes: creatingRoutes, env: { RATE_LIMIT_POLICIES: JSON.stringify({ default: { limit: 10_000 } }) } });
});
afterAll(async () => {
  await api?.close();
});
beforeEach(async () => {
  await truncateAll(api.database);
  runs.things = 0;
  runs.optional = 0;
  runs.flaky = 0;
});

function post(path: string, key: string | undefined, json: unknown, headers: Record<string, string> = {}) {
  return api.request(path, { method: 'POST', json, headers: { ...(key === undefined ? {} : { 'idempotency-key': key }), ...headers } });
}

describe('Idempotency-Key', () => {
  it('runs the handler once for 20 concurrent identical requests; the rest replay it or are told it is in progress', async () => {
    const key = crypto.randomUUID();
    const body = { name: 'violin', tags: ['strings'] };
    const responses = await Promise.all(Array.from({ length: 20 }, () => post('/api/v1/test/things', key, body)));
    expect(runs.things).toBe(1);
    const created = responses.filter((response) => response.status === 201);
    const busy = responses.filter((response) => response.status === 409);
    expect(created.length + busy.length).toBe(20);
    expect(created.filter((response) => response.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    const first = created.find((response) => response.headers.get('idempotent-replayed') !== 'true');
    for (const response of created) expect(response.body).toEqual(first?.body);
    for (const response of busy) {
      expect(response.body).toMatchObject({ code: 'idempotency_in_progress', field: 'Idempotency-Key' });
      expect(response.headers.get('retry-after')).toBe('1');
    }

    // 20 retries in sequence: the same status and body every time, marked as replays
    for (let index = 0; index < 20; index += 1) {
      const replay = await post('/api/v1/test/things', key, body);
      expect(replay.status).toBe(201);
      expect(replay.body).toEqual(first?.body);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
    }
    expect(runs.things).toBe(1);
    const rows = await api.database.db.selectFrom('idempotencyKeys').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ key, status: 'completed', responseStatus: 201 });
  });

  it('replays the stored bytes exactly, and treats a reordered body as the same request', async () => {
    const key = crypto.randomUUID();
    const first = await fetch(`${api.baseUrl}/api/v1/test/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ name: 'cello', tags: ['a', 'b'] }),
    });
    const firstText = await first.text();
    const replay = await fetch(`${api.baseUrl}/api/v1/test/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ tags: ['a', 'b'], name: 'cello' }),
    });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('content-type')).toContain('application/json');
    expect(await replay.text()).toBe(firstText);
    expect(runs.things).toBe(1);
  });

  it('refuses the same key with a different body: 409 idempotency_key_reused', async () => {
    const key = crypto.randomUUID();
    expect((await post('/api/v1/test/things', key, { name: 'flute' })).status).toBe(201);
    const changed = await post('/api/v1/test/things', key, { name: 'oboe' });
    expect(changed.status).toBe(409);
    expect(changed.body).toMatchObject({ code: 'idempotency_key_reused', field: 'Idempotency-Key' });
    // the same key on another creating route is another request too
    const otherPath = await post('/api/v1/test/things-optional', key, { name: 'flute' });
    expect(otherPath.status).toBe(409);
    expect(otherPath.body.code).toBe('idempotency_key_reused');
    expect(runs.things).toBe(1);
    expect(runs.optional).toBe(0);
  });

  it('accepts keys of up to 255 characters and refuses longer ones with 422 naming the header', async () => {
    expect((await post('/api/v1/test/things', 'k'.repeat(255), { name: 'harp' })).status).toBe(201);
    const tooLong = await post('/api/v1/test/things', 'k'.repeat(256), { name: 'harp' });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toMatchObject({ code: 'validation_error', field: 'Idempotency-Key' });
    const unprintable = await post('/api/v1/test/things', 'tab\there', { name: 'harp' });
    expect(unprintable.status).toBe(422);
    expect(runs.things).toBe(1);
  });

  it('requires the key where the route says so, and passes through where it is optional', async () => {
    const missing = await post('/api/v1/test/things', undefined, { name: 'drum' });
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ code: 'validation_error', field: 'Idempotency-Key' });
    expect(runs.things).toBe(0);
    await post('/api/v1/test/things-optional', undefined, { name: 'drum' });
    await post('/api/v1/test/things-optional', undefined, { name: 'drum' });
    expect(runs.optional).toBe(2);
  });

  it('does not store 5xx answers: the key is released and a retry runs the handler', async () => {
    const key = crypto.randomUUID();
    const failed = await post('/api/v1/test/flaky', key, { name: 'tuba' });
    expect(failed.status).toBe(503);
    expect(failed.headers.get('idempotent-replayed')).toBeNull();
    expect(await api.database.db.selectFrom('idempotencyKeys').selectAll().execute()).toHaveLength(0);
    const retried = await post('/api/v1/test/flaky', key, { name: 'tuba' });
    expect(retried.status).toBe(201);
    expect(runs.flaky).toBe(2);
    const replayed = await post('/api/v1/test/flaky', key, { name: 'tuba' });
    expect(replayed.body).toEqual(retried.body);
    expect(runs.flaky).toBe(2);
  });

  it('stores and replays 4xx answers of the handler itself', async () => {
    const key = crypto.randomUUID();
    const invalid = await post('/api/v1/test/things', key, { name: '' });
    expect(invalid.status).toBe(422);
    const again = await post('/api/v1/test/things', key, { name: '' });
    expect(again.status).toBe(422);
    expect(again.body).toEqual(invalid.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(runs.things).toBe(0);
  });

  it('scopes keys to the caller: another client with the same key gets its own answer', async () => {
    const key = crypto.randomUUID();
    const mine = await post('/api/v1/test/things', key, { name: 'lute' }, { 'x-forwarded-for': '10.9.0.1' });
    const theirs = await post('/api/v1/test/things', key, { name: 'lute' }, { 'x-forwarded-for': '10.9.0.2' });
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(runs.things).toBe(2);
  });

  it('takes over a reservation abandoned by a crashed process, and forgets answers after 24 hours', async () => {
    const crashedKey = crypto.randomUUID();
    const body = { name: 'sitar', tags: [] };
    // what a process that died mid-request leaves behind: an expired lease on the same request
    const hash = await requestHashOf('/api/v1/test/things', body);
    await sql`insert into idempotency_keys (principal_key, key, request_hash, status, locked_until, expires_at)
      values ('ip:127.0.0.1', ${crashedKey}, ${hash}, 'in_progress', now() - interval '1 second', now() + interval '1 day')`.execute(
      api.database.db,
    );
    const taken = await post('/api/v1/test/things', crashedKey, body);
    expect(taken.status).toBe(201);
    expect(taken.headers.get('idempotent-replayed')).toBeNull();

    // a live reservation is not taken over
    const liveKey = crypto.randomUUID();
    await sql`insert into idempotency_keys (principal_key, key, request_hash, status, locked_until, expires_at)
      values ('ip:127.0.0.1', ${liveKey}, ${hash}, 'in_progress', now() + interval '1 minute', now() + interval '1 day')`.execute(
      api.database.db,
    );
    expect((await post('/api/v1/test/things', liveKey, body)).status).toBe(409);

    const oldKey = crypto.randomUUID();
    await sql`insert into idempotency_keys (principal_key, key, request_hash, status, response_status, response_body, expires_at)
      values ('ip:127.0.0.1', ${oldKey}, 'another-request', 'completed', 201, '{"id":0}', now() - interval '1 second')`.execute(
      api.database.db,
    );
    const fresh = await post('/api/v1/test/things', oldKey, body);
    expect(fresh.status).toBe(201);
    expect(fresh.body.name).toBe('sitar');
    expect(runs.things).toBe(2);
    const row = await api.database.db.selectFrom('idempotencyKeys').selectAll().where('key', '=', oldKey).executeTakeFirstOrThrow();
    expect(row.expiresAt.getTime() - Date.now()).toBeGreaterThan(23 * 3_600_000);
  });

  it('documents the header in the OpenAPI document', async () => {
    const { body } = await api.request('/openapi.json');
    const parameters = body.paths['/api/v1/test/things'].post.parameters;
    expect(parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true }));
    expect(body.paths['/api/v1/test/things'].post.responses['409'].description).toContain('idempotency_key_reused');
  });
});

describe('canonicalJson', () => {
  it.each([
    [{ b: 1, a: [{ d: 1, c: 2 }] }, '{"a":[{"c":2,"d":1}],"b":1}'],
    [{ a: undefined, b: null }, '{"b":null}'],
    [null, 'null'],
    ['x', '"x"'],
  ])('%j → %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });
});

async function requestHashOf(path: string, body: unknown): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256')
    .update(`POST\n${path}\n${canonicalJson(body)}`)
    .digest('hex');
}
