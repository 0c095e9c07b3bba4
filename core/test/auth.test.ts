import jwt from 'jsonwebtoken';
import { truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows, bearer, createUserWithPassword, NO_RATE_LIMITS_ENV, signIn, TEST_PASSWORD } from './support/auth.ts';

const clock = fixedClock('2030-01-15T15:00:00Z');
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ clock, env: NO_RATE_LIMITS_ENV });
});
afterAll(async () => {
  await api?.close();
});
beforeEach(async () => {
  clock.set('2030-01-15T15:00:00Z');
  await truncateAll(api.database);
});

function post(path: string, json: unknown, headers: Record<string, string> = {}) {
  return api.request(`/api/v1${path}`, { method: 'POST', json, headers });
}

const student = { email: 'Sarah.Chen@Example.com', password: 'piano lessons 4 me', firstName: 'Sarah', lastName: 'Chen', role: 'student' };

describe('registration', () => {
  it('creates a student, signs them in, and shows them at /auth/me', async () => {
    const { status, body, headers } = await post('/auth/register', student);
    expect(status).toBe(201);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toMatchObject({
      tokenType: 'bearer',
      expiresIn: 900,
      user: { email: student.email, firstName: 'Sarah', roles: ['student'] },
    });
    expect(body.user.permissions).toContain('bookings:create');
    expect(body.user.permissions).not.toContain('audit:read');

    const me = await api.request('/api/v1/auth/me', { headers: bearer(body.accessToken) });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: body.user.id,
      email: student.email,
      firstName: 'Sarah',
      lastName: 'Chen',
      roles: ['student'],
      permissions: body.user.permissions,
      timezone: 'America/New_York',
      twoFactorEnabled: false,
    });
    const stored = await api.database.db.selectFrom('users').select('passwordHash').executeTakeFirstOrThrow();
    expect(stored.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('refuses a taken email in any letter case with 409 on `email`', async () => {
    expect((await post('/auth/register', student)).status).toBe(201);
    const again = await post('/auth/register', { ...student, email: 'SARAH.CHEN@example.COM' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'already_exists', field: 'email' });
  });

  it('refuses self-appointed admins, unknown fields and bad emails with 422', async () => {
    const admin = await post('/auth/register', { ...student, role: 'admin' });
    expect(admin.status).toBe(422);
    expect(admin.body.field).toBe('role');
    const extra = await post('/auth/register', { ...student, isAdmin: true });
    expect(extra.status).toBe(422);
    expect(extra.body.field).toBe('isAdmin');
    const badEmail = await post('/auth/register', { ...student, email: 'not-an-email' });
    expect(badEmail.status).toBe(422);
    expect(badEmail.body.field).toBe('email');
    expect(await api.database.db.selectFrom('users').select('id').execute()).toEqual([]);
  });
});

describe('login and tokens', () => {
  it('answers tokens whose access token is an ES256 JWT with kid, iss, aud and a 15-minute exp', async () => {
    const user = await createUserWithPassword(api.database);
    const { status, body } = await post('/auth/login', { email: user.email.toUpperCase(), password: user.password });
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['accessToken', 'expiresIn', 'refreshToken', 'tokenType']);
    const decoded = jwt.decode(body.accessToken, { complete: true })!;
    expect(decoded.header).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: api.deps.auth.keys.signing.keyId });
    const payload = decoded.payload as jwt.JwtPayload;
    expect(payload).toMatchObject({ sub: user.userId, iss: api.config.auth.issuer, aud: api.config.auth.audience, roles: ['student'] });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(payload.iat).toBe(Math.floor(clock.now().getTime() / 1000));
  });

  it('answers a wrong password and an unknown email identically with 401', async () => {
    const user = await createUserWithPassword(api.database);
    const wrong = await post('/auth/login', { email: user.email, password: 'not the password' });
    const unknown = await post('/auth/login', { email: 'nobody@example.com', password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body).toEqual({ detail: 'The email or password is incorrect.', code: 'unauthenticated', field: null });
    const failures = await auditRows(api.database, 'auth.login');
    expect(failures.map((row) => [row.outcome, row.resourceId, (row.metadata as { reason: string }).reason])).toEqual([
      ['failure', user.userId, 'wrong_password'],
      ['failure', null, 'unknown_account'],
    ]);
  });

  it('refuses a suspended account with 403 once the password is right', async () => {
    const user = await createUserWithPassword(api.database, { status: 'suspended' });
    const { status, body } = await post('/auth/login', { email: user.email, password: user.password });
    expect(status).toBe(403);
    expect(body.code).toBe('forbidden');
  });

  it('rotates refresh tokens; reusing a rotated one revokes the whole session and is audited', async () => {
    const user = await createUserWithPassword(api.database);
    const first = await signIn(api, user.email, user.password);

    const rotated = await post('/auth/refresh', { refreshToken: first.refreshToken });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(first.refreshToken);
    const again = await post('/auth/refresh', { refreshToken: rotated.body.refreshToken });
    expect(again.status).toBe(200);

    // The first token was already used: someone else holds a copy.
    const reuse = await post('/auth/refresh', { refreshToken: first.refreshToken });
    expect(reuse.status).toBe(401);
    expect(reuse.body.code).toBe('invalid_token');
    expect(reuse.body.detail).toMatch(/already used/);
    // …so the newest token of the same session is dead too.
    const latest = await post('/auth/refresh', { refreshToken: again.body.refreshToken });
    expect(latest.status).toBe(401);

    const [event] = await auditRows(api.database, 'auth.refresh_token_reuse');
    expect(event).toMatchObject({ resourceId: user.userId, outcome: 'denied' });
    const session = await api.database.db.selectFrom('authSessions').select(['revokedAt', 'revokedReason']).executeTakeFirstOrThrow();
    expect(session.revokedReason).toBe('refresh_token_reuse');
  });

  it('refuses an expired refresh token and one that never existed', async () => {
    const user = await createUserWithPassword(api.database);
    const session = await signIn(api, user.email, user.password);
    clock.advance(31 * 86_400_000);
    expect((await post('/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(401);
    expect((await post('/auth/refresh', { refreshToken: 'ii_rt_made-up' })).status).toBe(401);
  });

  it('logs out the session of the refresh token, idempotently', async () => {
    const user = await createUserWithPassword(api.database);
    const session = await signIn(api, user.email, user.password);
    const out = await post('/auth/logout', { refreshToken: session.refreshToken }, session.headers);
    expect(out.status).toBe(204);
    expect((await post('/auth/logout', { refreshToken: session.refreshToken })).status).toBe(204);
    expect((await post('/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(401);
    expect(await auditRows(api.database, 'auth.logout')).toHaveLength(1);
  });

  it('lists your sessions and signs one out by id', async () => {
    const user = await createUserWithPassword(api.database);
    const laptop = await signIn(api, user.email, user.password, { 'user-agent': 'laptop' });
    const phone = await signIn(api, user.email, user.password, { 'user-agent': 'phone' });
    const { status, body } = await api.request('/api/v1/auth/sessions', { headers: phone.headers });
    expect(status).toBe(200);
    expect(body.items).toHaveLength(2);
    const current = body.items.find((item: { current: boolean }) => item.current);
    const other = body.items.find((item: { current: boolean }) => !item.current);
    expect(current.userAgent).toBe('phone');
    expect(other.userAgent).toBe('laptop');

    const revoke = await api.request(`/api/v1/auth/sessions/${other.id}`, { method: 'DELETE', headers: phone.headers });
    expect(revoke.status).toBe(204);
    expect((await post('/auth/refresh', { refreshToken: laptop.refreshToken })).status).toBe(401);
    expect((await post('/auth/refresh', { refreshToken: phone.refreshToken })).status).toBe(200);
  });

  it('never writes passwords, tokens or hashes into the audit log', async () => {
    const registered = await post('/auth/register', student);
    await post('/auth/login', { email: student.email, password: 'wrong password!' });
    const login = await post('/auth/login', { email: student.email, password: student.password });
    await post('/auth/refresh', { refreshToken: login.body.refreshToken });
    await post('/auth/refresh', { refreshToken: login.body.refreshToken });
    const everything = JSON.stringify(await auditRows(api.database));
    for (const secret of [student.password, 'wrong password!', registered.body.accessToken, login.body.refreshToken, '$argon2id']) {
      expect(everything).not.toContain(secret);
    }
    const actions = (await auditRows(api.database)).map((row) => `${row.action}:${row.outcome}`);
    expect(actions).toEqual(['auth.register:success', 'auth.login:failure', 'auth.login:success', 'auth.refresh_token_reuse:denied']);
  });
});

describe('password reset', () => {
  async function resetTokenFromOutbox(): Promise<string> {
    const message = await api.database.db.selectFrom('outbox').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    const url = new URL((message.payload as { resetUrl: string }).resetUrl);
    return url.searchParams.get('token')!;
  }

  it('answers 202 the same way for known and unknown emails; only a real account gets an e-mail', async () => {
    const user = await createUserWithPassword(api.database, { firstName: 'Maya' });
    const known = await post('/auth/password-reset/request', { email: user.email });
    const unknown = await post('/auth/password-reset/request', { email: 'nobody@example.com' });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(unknown.body).toEqual(known.body);

    const outbox = await api.database.db.selectFrom('outbox').selectAll().execute();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ channel: 'email', template: 'password_reset', recipient: user.email, status: 'pending' });
    expect(outbox[0]?.payload).toMatchObject({ firstName: 'Maya', expiresAt: '2030-01-15T16:00:00.000Z' });
    expect((outbox[0]?.payload as { resetUrl: string }).resetUrl).toMatch(/^http:\/\/localhost:3000\/reset-password\?token=/);
    // only the hash of the token is stored
    const token = await resetTokenFromOutbox();
    const stored = await api.database.db.selectFrom('passwordResetTokens').select('tokenHash').executeTakeFirstOrThrow();
    expect(stored.tokenHash).not.toContain(token);
    expect(stored.tokenHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('sets a new password once, signs out every session, and audits it', async () => {
    const user = await createUserWithPassword(api.database);
    const session = await signIn(api, user.email, user.password);
    await post('/auth/password-reset/request', { email: user.email });
    const token = await resetTokenFromOutbox();

    const confirm = await post('/auth/password-reset/confirm', { token, newPassword: 'a brand new secret' });
    expect(confirm.status).toBe(204);
    expect((await post('/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(401);
    expect((await post('/auth/login', { email: user.email, password: user.password })).status).toBe(401);
    expect((await post('/auth/login', { email: user.email, password: 'a brand new secret' })).status).toBe(200);

    const reused = await post('/auth/password-reset/confirm', { token, newPassword: 'another new secret' });
    expect(reused.status).toBe(422);
    expect(reused.body.field).toBe('token');
    const actions = (await auditRows(api.database)).map((row) => row.action);
    expect(actions).toContain('auth.password_reset.request');
    expect(actions).toContain('auth.password_reset.complete');
  });

  it('expires a reset link after one hour', async () => {
    const user = await createUserWithPassword(api.database);
    await post('/auth/password-reset/request', { email: user.email });
    const token = await resetTokenFromOutbox();
    clock.advance(60 * 60_000 + 1000);
    const late = await post('/auth/password-reset/confirm', { token, newPassword: 'too late for this' });
    expect(late.status).toBe(422);
    expect(late.body).toMatchObject({ code: 'validation_error', field: 'token' });
    expect((await post('/auth/login', { email: user.email, password: TEST_PASSWORD })).status).toBe(200);
  });

  it('sends at most three links per account and hour, still answering 202', async () => {
    const user = await createUserWithPassword(api.database);
    for (let index = 0; index < 5; index += 1) {
      expect((await post('/auth/password-reset/request', { email: user.email })).status).toBe(202);
    }
    expect(await api.database.db.selectFrom('outbox').select('id').execute()).toHaveLength(3);
  });
});
