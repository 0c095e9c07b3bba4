import { truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows, createUserWithPassword, fromIp, NO_RATE_LIMITS_ENV } from './support/auth.ts';

/**
 * R15: sign-in throttling per (account, IP) and per IP, which an attacker cannot use to lock the
 * owner out; passwords of 8–128 characters compared after NFKC normalization.
 */
const clock = fixedClock('2030-03-01T09:00:00Z');
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ clock, env: NO_RATE_LIMITS_ENV });
});
afterAll(async () => {
  await api?.close();
});
beforeEach(async () => {
  clock.set('2030-03-01T09:00:00Z');
  await truncateAll(api.database);
});

const ATTACKER = '203.0.113.66';
const OWNER = '198.51.100.7';

function login(email: string, password: string, ip: string) {
  return api.request('/api/v1/auth/login', { method: 'POST', json: { email, password }, headers: fromIp(ip) });
}

describe('password rules', () => {
  it('accepts a 64-character password and refuses a 4,096-character one quickly, without hashing or counting it', async () => {
    const long = 'p'.repeat(63) + '!';
    const registered = await api.request('/api/v1/auth/register', {
      method: 'POST',
      json: { email: 'long@example.com', password: long, firstName: 'Long', lastName: 'Pass', role: 'student' },
    });
    expect(registered.status).toBe(201);
    expect((await login('long@example.com', long, OWNER)).status).toBe(200);

    const started = performance.now();
    const huge = await login('long@example.com', 'x'.repeat(4096), ATTACKER);
    const elapsedMs = performance.now() - started;
    expect(huge.status).toBe(422);
    expect(huge.body).toMatchObject({ code: 'validation_error', field: 'password' });
    // an Argon2id verify at m=19 MiB takes tens of milliseconds; validation takes ~1
    expect(elapsedMs).toBeLessThan(250);
    expect(await api.database.db.selectFrom('loginThrottle').selectAll().where('key', 'like', 'login:ip:%').execute()).toEqual([
      expect.objectContaining({ failures: 0 }),
    ]);
    expect((await auditRows(api.database, 'auth.login')).filter((row) => row.outcome === 'failure')).toHaveLength(0);
  });

  it('refuses passwords under 8 or over 128 characters (counted in characters, not bytes)', async () => {
    const base = { email: 'rules@example.com', firstName: 'R', lastName: 'R', role: 'student' };
    const register = (password: string) => api.request('/api/v1/auth/register', { method: 'POST', json: { ...base, password } });
    expect((await register('short7!')).status).toBe(422);
    expect((await register('a'.repeat(129))).status).toBe(422);
    // 100 emoji are 100 characters (200 UTF-16 units): allowed
    expect((await register('🎹'.repeat(100))).status).toBe(201);
  });

  it('compares passwords after Unicode NFKC normalization', async () => {
    const precomposed = 'Crème brûlée 2030';
    const decomposed = precomposed.normalize('NFD');
    expect(decomposed).not.toBe(precomposed);
    const user = await createUserWithPassword(api.database, { password: precomposed });
    expect((await login(user.email, decomposed, OWNER)).status).toBe(200);
    expect((await login(user.email, precomposed, OWNER)).status).toBe(200);
    expect((await login(user.email, 'Crême brûlée 2030', OWNER)).status).toBe(401);

    const fullWidth = await createUserWithPassword(api.database, { password: 'password123' });
    expect((await login(fullWidth.email, 'ｐａｓｓｗｏｒｄ１２３', OWNER)).status).toBe(200);
  });
});

describe('throttling', () => {
  it('gives an (account, IP) pair three free failures, then a doubling delay with Retry-After', async () => {
    const victim = await createUserWithPassword(api.database);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await login(victim.email, `guess ${attempt} wrong`, ATTACKER)).status).toBe(401);
    }
    const delayed = await login(victim.email, 'guess 3 wrong', ATTACKER);
    expect(delayed.status).toBe(429);
    expect(delayed.body.code).toBe('rate_limited');
    expect(delayed.headers.get('retry-after')).toBe('1');
    // even the right password waits: nothing is hashed during the delay
    expect((await login(victim.email, victim.password, ATTACKER)).status).toBe(429);

    clock.advance(1000);
    expect((await login(victim.email, 'guess 4 wrong', ATTACKER)).status).toBe(401);
    const longer = await login(victim.email, 'guess 5 wrong', ATTACKER);
    expect(longer.headers.get('retry-after')).toBe('2');
    clock.advance(2000);
    expect((await login(victim.email, 'guess 5 wrong', ATTACKER)).status).toBe(401);
    expect((await login(victim.email, 'guess 6 wrong', ATTACKER)).headers.get('retry-after')).toBe('4');
  });

  it('lets the owner sign in from their own network while an attacker hammers the account', async () => {
    const victim = await createUserWithPassword(api.database);
    for (let attempt = 0; attempt < 40; attempt += 1) {
      const { status } = await login(victim.email, `guess ${attempt} wrong`, ATTACKER);
      expect([401, 429]).toContain(status);
    }
    expect((await login(victim.email, victim.password, OWNER)).status).toBe(200);
    expect((await login(victim.email, victim.password, '192.0.2.10')).status).toBe(200);
  });

  it('survives 100 concurrent guesses from one IP: at most three reach the password check', async () => {
    const victim = await createUserWithPassword(api.database);
    const burst = await Promise.all(Array.from({ length: 100 }, (_, index) => login(victim.email, `burst guess ${index}`, ATTACKER)));
    const statuses = burst.map((response) => response.status);
    const checked = statuses.filter((status) => status === 401).length;
    expect(checked).toBeGreaterThanOrEqual(1);
    expect(checked).toBeLessThanOrEqual(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(100 - checked);
    expect((await auditRows(api.database, 'auth.login')).filter((row) => row.outcome === 'failure')).toHaveLength(checked);
    expect((await login(victim.email, victim.password, OWNER)).status).toBe(200);
  });

  it('keeps an owner who mistypes during an attack to a delay of seconds, not a lockout', async () => {
    const victim = await createUserWithPassword(api.database);
    const attackers = Array.from({ length: 25 }, (_, index) => `203.0.113.${index + 1}`);
    for (const ip of attackers) expect((await login(victim.email, 'spray guess', ip)).status).toBe(401);
    // the account is now under attack: pairs lose their free failures
    expect((await login(victim.email, 'oops typo here', OWNER)).status).toBe(401);
    const wait = await login(victim.email, victim.password, OWNER);
    expect(wait.status).toBe(429);
    expect(Number(wait.headers.get('retry-after'))).toBeLessThanOrEqual(2);
    clock.advance(2000);
    expect((await login(victim.email, victim.password, OWNER)).status).toBe(200);
  });

  it('caps failures per IP across accounts (credential stuffing), without touching other IPs', async () => {
    const users = await Promise.all(Array.from({ length: 3 }, () => createUserWithPassword(api.database)));
    for (let attempt = 0; attempt < 30; attempt += 1) {
      expect((await login(`stuffed-${attempt}@example.com`, 'leaked password 1', ATTACKER)).status).toBe(401);
    }
    const capped = await login(users[0]!.email, users[0]!.password, ATTACKER);
    expect(capped.status).toBe(429);
    expect(Number(capped.headers.get('retry-after'))).toBeGreaterThan(800);
    expect((await login(users[1]!.email, users[1]!.password, OWNER)).status).toBe(200);
    clock.advance(15 * 60_000);
    expect((await login(users[0]!.email, users[0]!.password, ATTACKER)).status).toBe(200);
  });

  it('forgets a pair after a successful sign-in', async () => {
    const user = await createUserWithPassword(api.database);
    for (let attempt = 0; attempt < 3; attempt += 1) await login(user.email, 'wrong wrong wrong', OWNER);
    clock.advance(1000);
    expect((await login(user.email, user.password, OWNER)).status).toBe(200);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await login(user.email, 'wrong wrong wrong', OWNER)).status).toBe(401);
    }
  });

  it('is shared by every API process on the database', async () => {
    const second = await startTestApi({ clock, env: NO_RATE_LIMITS_ENV, database: api.database });
    try {
      const victim = await createUserWithPassword(api.database);
      for (let attempt = 0; attempt < 3; attempt += 1) {
        expect((await login(victim.email, 'first process guess', ATTACKER)).status).toBe(401);
      }
      const other = await second.request('/api/v1/auth/login', {
        method: 'POST',
        json: { email: victim.email, password: 'second process guess' },
        headers: fromIp(ATTACKER),
      });
      expect(other.status).toBe(429);
    } finally {
      await second.close();
    }
  });
});
