import { createHash, randomBytes } from 'node:crypto';
import { newId } from '@instainstru/db';
import { truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SCOPE_PERMISSIONS } from '../src/auth/scopes.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows, bearer, loginAs, NO_RATE_LIMITS_ENV, type SignedIn } from './support/auth.ts';

/**
 * R10: another user's ids answer 404 and a student token on admin routes 403, never 2xx, and
 * every denial leaves an audit record. Routes check permissions, never role names.
 */
const SERVICE_KEY = `ii_sk_${randomBytes(24).toString('base64url')}`;
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({
    env: { ...NO_RATE_LIMITS_ENV, SERVICE_KEYS: `mcp-dev:${createHash('sha256').update(SERVICE_KEY).digest('hex')}:ops:read admin:read` },
  });
});
afterAll(async () => {
  await api?.close();
});
beforeEach(async () => truncateAll(api.database));

function get(path: string, headers: Record<string, string> = {}) {
  return api.request(`/api/v1${path}`, { headers });
}

describe('the permission catalogue', () => {
  it('knows every permission a route or a service scope names', async () => {
    const known = new Set((await api.database.db.selectFrom('permissions').select('name').execute()).map((row) => row.name));
    const document = (await api.request('/openapi.json')).body as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const required = Object.values(document.paths).flatMap((item) =>
      Object.values(item)
        .map((operation) => operation['x-required-permission'])
        .filter((permission): permission is string => typeof permission === 'string'),
    );
    expect(required.length).toBeGreaterThan(5);
    for (const permission of [...required, ...Object.values(SCOPE_PERMISSIONS).flat()]) expect(known).toContain(permission);
  });
});

describe('admin routes', () => {
  it('answer a student 403 and audit the denial; anonymous callers get 401', async () => {
    const student = await loginAs(api, 'student');
    const { status, body } = await get('/admin/audit-log', student.headers);
    expect(status).toBe(403);
    expect(body).toEqual({ detail: 'You do not have permission to do this.', code: 'forbidden', field: null });
    const [denial] = await auditRows(api.database, 'rbac.denied');
    expect(denial).toMatchObject({
      actorType: 'user',
      actorId: student.userId,
      outcome: 'denied',
      resourceType: 'route',
      resourceId: 'GET /api/v1/admin/audit-log',
      metadata: { permission: 'audit:read' },
    });
    expect(denial?.ipHash).toMatch(/^[0-9a-f]{32}$/);
    expect((await get('/admin/audit-log')).status).toBe(401);
  });

  it('refuse a student who tries to make themselves admin', async () => {
    const student = await loginAs(api, 'student');
    const escalate = await api.request(`/api/v1/admin/users/${student.userId}/roles/admin`, { method: 'PUT', headers: student.headers });
    expect(escalate.status).toBe(403);
    const roles = await api.database.db.selectFrom('userRoles').where('userId', '=', student.userId).select('role').execute();
    expect(roles.map((row) => row.role)).toEqual(['student']);
  });

  it('answer a service 403 outside its scopes (admin:read does not include the audit log)', async () => {
    const { status } = await get('/admin/audit-log', bearer(SERVICE_KEY));
    expect(status).toBe(403);
    expect((await get('/auth/me', bearer(SERVICE_KEY))).status).toBe(403);
  });
});

describe('another user’s ids', () => {
  it('answer 404 on your own-session routes, exactly like ids that do not exist', async () => {
    const alice = await loginAs(api, 'student');
    const bob = await loginAs(api, 'student');
    const bobSessions = await get('/auth/sessions', bob.headers);
    const bobSessionId = bobSessions.body.items[0].id;

    const stolen = await api.request(`/api/v1/auth/sessions/${bobSessionId}`, { method: 'DELETE', headers: alice.headers });
    const missing = await api.request(`/api/v1/auth/sessions/${newId()}`, { method: 'DELETE', headers: alice.headers });
    expect(stolen.status).toBe(404);
    expect(stolen.body).toEqual(missing.body);
    // Bob's session is untouched
    const refreshed = await api.request('/api/v1/auth/refresh', { method: 'POST', json: { refreshToken: bob.refreshToken } });
    expect(refreshed.status).toBe(200);
    // and Alice's list shows only Alice's session
    const aliceSessions = await get('/auth/sessions', alice.headers);
    expect(aliceSessions.body.items.map((item: { id: string }) => item.id)).not.toContain(bobSessionId);
  });

  it('never answer 2xx on any authenticated route with an id, for a student using someone else’s ids', async () => {
    const student = await loginAs(api, 'student');
    const other = await loginAs(api, 'instructor');
    const otherSession = (await get('/auth/sessions', other.headers)).body.items[0].id as string;
    const document = (await api.request('/openapi.json')).body as {
      paths: Record<
        string,
        Record<string, { security?: unknown[]; parameters?: Array<{ in: string; name: string; schema: { enum?: string[] } }> }>
      >;
    };
    const checked: string[] = [];
    for (const [template, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const pathParams = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path');
        const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
        if (pathParams.length === 0 || isPublic) continue;
        const path = template.replace(/\{([^}]+)\}/g, (_match, name: string) => {
          const parameter = pathParams.find((item) => item.name === name);
          if (parameter?.schema.enum) return parameter.schema.enum[0] ?? 'x';
          return /session/i.test(template) ? otherSession : other.userId;
        });
        const { status } = await api.request(path, {
          method: method.toUpperCase(),
          headers: { ...student.headers, 'idempotency-key': newId() },
          ...(['post', 'put', 'patch'].includes(method) ? { json: {} } : {}),
        });
        checked.push(`${method.toUpperCase()} ${template} → ${status}`);
        expect(status, `${method.toUpperCase()} ${template}`).toBeGreaterThanOrEqual(400);
        expect(status, `${method.toUpperCase()} ${template}`).toBeLessThan(500);
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(3);
  });
});

describe('GET /admin/audit-log', () => {
  let admin: SignedIn;

  beforeEach(async () => {
    admin = await loginAs(api, 'admin');
  });

  it('pages through the log newest first, each record once', async () => {
    for (let index = 0; index < 4; index += 1) await loginAs(api, 'student');
    const all: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const { status, body } = await get(`/admin/audit-log${query}`, admin.headers);
      expect(status).toBe(200);
      all.push(...body.items.map((item: { id: string }) => item.id));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor && pages < 20);
    expect(all).toHaveLength(5);
    expect(new Set(all).size).toBe(5);
    expect([...all].sort().reverse()).toEqual(all);
  });

  it('filters by action, actor, resource and time, and rejects unknown filters', async () => {
    const student = await loginAs(api, 'student');
    await api.request('/api/v1/auth/login', { method: 'POST', json: { email: student.email, password: 'wrong wrong wrong' } });

    const byAction = await get('/admin/audit-log?action=auth.login', admin.headers);
    expect(byAction.body.items.map((item: { outcome: string }) => item.outcome)).toEqual(['failure', 'success', 'success']);
    const byActor = await get(`/admin/audit-log?actorId=${student.userId}`, admin.headers);
    expect(byActor.body.items).toHaveLength(1);
    expect(byActor.body.items[0]).toMatchObject({ action: 'auth.login', actorType: 'user', resourceId: student.userId });
    expect(byActor.body.items[0]).not.toHaveProperty('ipHash');
    const byResource = await get(`/admin/audit-log?resourceType=user&resourceId=${student.userId}`, admin.headers);
    expect(byResource.body.items).toHaveLength(2);

    const future = await get(`/admin/audit-log?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, admin.headers);
    expect(future.body.items).toEqual([]);
    const past = await get(`/admin/audit-log?to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, admin.headers);
    expect(past.body.items.length).toBe(3);

    expect((await get('/admin/audit-log?colour=blue', admin.headers)).status).toBe(422);
    expect((await get('/admin/audit-log?from=yesterday', admin.headers)).body.field).toBe('from');
  });
});

describe('role changes', () => {
  it('are audited; a revoked role signs the user out everywhere', async () => {
    const admin = await loginAs(api, 'admin');
    const user = await loginAs(api, 'student');
    const granted = await api.request(`/api/v1/admin/users/${user.userId}/roles/instructor`, { method: 'PUT', headers: admin.headers });
    expect(granted.status).toBe(200);
    expect(granted.body).toEqual({ userId: user.userId, roles: ['instructor', 'student'] });
    // the new role shows at the next refresh
    const refreshed = await api.request('/api/v1/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } });
    const me = await get('/auth/me', bearer(refreshed.body.accessToken));
    expect(me.body.permissions).toContain('availability:manage:own');

    const revoked = await api.request(`/api/v1/admin/users/${user.userId}/roles/instructor`, { method: 'DELETE', headers: admin.headers });
    expect(revoked.body.roles).toEqual(['student']);
    expect(
      (await api.request('/api/v1/auth/refresh', { method: 'POST', json: { refreshToken: refreshed.body.refreshToken } })).status,
    ).toBe(401);

    const changes = (await auditRows(api.database)).filter((row) => row.action.startsWith('users.role.'));
    expect(changes.map((row) => [row.action, row.actorId, row.before, row.after])).toEqual([
      ['users.role.grant', admin.userId, { roles: ['student'] }, { roles: ['instructor', 'student'] }],
      ['users.role.revoke', admin.userId, { roles: ['instructor', 'student'] }, { roles: ['student'] }],
    ]);
  });

  it('answer 404 for an unknown user, 422 for an unknown role, and refuse removing your own admin role', async () => {
    const admin = await loginAs(api, 'admin');
    expect((await api.request(`/api/v1/admin/users/${newId()}/roles/student`, { method: 'PUT', headers: admin.headers })).status).toBe(404);
    expect((await api.request(`/api/v1/admin/users/${admin.userId}/roles/owner`, { method: 'PUT', headers: admin.headers })).status).toBe(
      422,
    );
    const self = await api.request(`/api/v1/admin/users/${admin.userId}/roles/admin`, { method: 'DELETE', headers: admin.headers });
    expect(self.status).toBe(409);
  });
});
