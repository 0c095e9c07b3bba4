import { truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { consumeBackupCode } from '../src/auth/backup-codes.ts';
import { totpStep } from '../src/auth/totp.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import {
  auditRows,
  bearer,
  createUserWithPassword,
  currentTotp,
  fromIp,
  NO_RATE_LIMITS_ENV,
  type SignedIn,
  signIn,
} from './support/auth.ts';

/**
 * Two-factor sign-in (TOTP + backup codes) and R16: one backup code used 50 times at once works
 * once; a TOTP code cannot be replayed; adjacent time steps are accepted; wrong lengths are 422.
 */
// 10:00:05 is 5 s into a 30-second step, so small advances stay predictable.
const START = '2030-04-01T10:00:05Z';
const clock = fixedClock(START);
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ clock, env: NO_RATE_LIMITS_ENV });
});
afterAll(async () => {
  await api?.close();
});
beforeEach(async () => {
  clock.set(START);
  await truncateAll(api.database);
});

function post(path: string, json: unknown, headers: Record<string, string> = {}) {
  return api.request(`/api/v1${path}`, { method: 'POST', json, headers });
}

/** A signed-in user with two-factor on; the clock is left one step after enabling. */
async function userWithTwoFactor(): Promise<SignedIn & { secret: string; backupCodes: string[] }> {
  const user = await createUserWithPassword(api.database);
  const session = await signIn(api, user.email, user.password);
  const setup = await post('/auth/2fa/setup', { password: user.password }, session.headers);
  expect(setup.status).toBe(200);
  const enable = await post('/auth/2fa/enable', { code: currentTotp(setup.body.secret, clock) }, session.headers);
  expect(enable.status).toBe(200);
  clock.advance(30_000);
  return { ...session, userId: user.userId, secret: setup.body.secret, backupCodes: enable.body.backupCodes };
}

async function challengeFor(user: { email: string; password: string }): Promise<string> {
  const { status, body } = await post('/auth/login', { email: user.email, password: user.password });
  expect(status).toBe(200);
  expect(body).toEqual({ requires2fa: true, challengeToken: expect.any(String) });
  return body.challengeToken;
}

describe('turning two-factor authentication on', () => {
  it('needs the password, stores the secret encrypted, and returns eight single-use backup codes once', async () => {
    const user = await createUserWithPassword(api.database);
    const session = await signIn(api, user.email, user.password);

    const wrongPassword = await post('/auth/2fa/setup', { password: 'not my password' }, session.headers);
    expect(wrongPassword.status).toBe(422);
    expect(wrongPassword.body.field).toBe('password');

    const setup = await post('/auth/2fa/setup', { password: user.password }, session.headers);
    expect(setup.status).toBe(200);
    expect(setup.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(setup.body.otpauthUri).toBe(
      `otpauth://totp/InstaInstru:${encodeURIComponent(user.email)}?secret=${setup.body.secret}&issuer=InstaInstru&algorithm=SHA1&digits=6&period=30`,
    );
    const stored = await api.database.db.selectFrom('users').select('totpSecret').where('id', '=', user.userId).executeTakeFirstOrThrow();
    expect(stored.totpSecret).toMatch(/^v1:/);
    expect(stored.totpSecret).not.toContain(setup.body.secret);

    const wrongCode = await post('/auth/2fa/enable', { code: currentTotp(setup.body.secret, clock, 5) }, session.headers);
    expect(wrongCode.status).toBe(422);
    expect(wrongCode.body.field).toBe('code');

    const enable = await post('/auth/2fa/enable', { code: currentTotp(setup.body.secret, clock) }, session.headers);
    expect(enable.status).toBe(200);
    expect(enable.body.backupCodes).toHaveLength(8);
    expect(new Set(enable.body.backupCodes).size).toBe(8);
    for (const code of enable.body.backupCodes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{10}$/);
    const hashes = await api.database.db.selectFrom('twoFactorBackupCodes').select('codeHash').execute();
    expect(hashes.map((row) => row.codeHash).sort()).not.toEqual([...enable.body.backupCodes].sort());

    const me = await api.request('/api/v1/auth/me', { headers: session.headers });
    expect(me.body.twoFactorEnabled).toBe(true);
    expect((await post('/auth/2fa/setup', { password: user.password }, session.headers)).status).toBe(409);
    expect((await auditRows(api.database)).map((row) => row.action)).toEqual(expect.arrayContaining(['auth.2fa.setup', 'auth.2fa.enable']));
    expect(JSON.stringify(await auditRows(api.database))).not.toContain(setup.body.secret);
  });
});

describe('signing in with two factors', () => {
  it('answers a challenge instead of tokens, and the challenge is not an access token', async () => {
    const user = await userWithTwoFactor();
    const challenge = await challengeFor(user);
    expect((await api.request('/api/v1/auth/me', { headers: bearer(challenge) })).status).toBe(401);
    const verified = await post('/auth/2fa/verify', { challengeToken: challenge, code: currentTotp(user.secret, clock) });
    expect(verified.status).toBe(200);
    expect(verified.body.tokenType).toBe('bearer');
    expect((await api.request('/api/v1/auth/me', { headers: bearer(verified.body.accessToken) })).status).toBe(200);
    const success = (await auditRows(api.database, 'auth.login')).filter((row) => row.outcome === 'success').at(-1);
    expect(success?.metadata).toMatchObject({ secondFactor: 'totp' });
  });

  it('refuses the same TOTP code twice', async () => {
    const user = await userWithTwoFactor();
    const code = currentTotp(user.secret, clock);
    expect((await post('/auth/2fa/verify', { challengeToken: await challengeFor(user), code })).status).toBe(200);
    const replay = await post('/auth/2fa/verify', { challengeToken: await challengeFor(user), code });
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ code: 'unauthenticated', field: 'code' });
  });

  it('lets only one of two concurrent uses of one TOTP code through', async () => {
    const user = await userWithTwoFactor();
    const code = currentTotp(user.secret, clock);
    const [first, second] = [await challengeFor(user), await challengeFor(user)];
    const results = await Promise.all([
      post('/auth/2fa/verify', { challengeToken: first, code }, fromIp('198.51.100.1')),
      post('/auth/2fa/verify', { challengeToken: second, code }, fromIp('198.51.100.2')),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual([200, 401]);
  });

  it('accepts the previous and the next time step, not two steps away', async () => {
    const user = await userWithTwoFactor();
    const enabledStep = totpStep(clock.now()) - 1;

    clock.set(new Date((enabledStep + 3) * 30_000 + 5_000));
    const previous = currentTotp(user.secret, clock, -1);
    expect((await post('/auth/2fa/verify', { challengeToken: await challengeFor(user), code: previous })).status).toBe(200);

    clock.set(new Date((enabledStep + 6) * 30_000 + 5_000));
    const next = currentTotp(user.secret, clock, +1);
    expect((await post('/auth/2fa/verify', { challengeToken: await challengeFor(user), code: next })).status).toBe(200);

    clock.set(new Date((enabledStep + 12) * 30_000 + 5_000));
    for (const offset of [-2, +2]) {
      const far = currentTotp(user.secret, clock, offset);
      expect((await post('/auth/2fa/verify', { challengeToken: await challengeFor(user), code: far }, fromIp('192.0.2.7'))).status).toBe(
        401,
      );
    }
  });

  it('refuses codes of the wrong length or shape with 422, and exactly one of code or backupCode', async () => {
    const user = await userWithTwoFactor();
    const challengeToken = await challengeFor(user);
    for (const code of ['12345', '1234567', '12345a', ' 123456', '']) {
      const { status, body } = await post('/auth/2fa/verify', { challengeToken, code });
      expect(status).toBe(422);
      expect(body.field).toBe('code');
    }
    expect((await post('/auth/2fa/verify', { challengeToken, backupCode: 'ABC' })).status).toBe(422);
    expect((await post('/auth/2fa/verify', { challengeToken })).status).toBe(422);
    const both = await post('/auth/2fa/verify', { challengeToken, code: currentTotp(user.secret, clock), backupCode: user.backupCodes[0] });
    expect(both.status).toBe(422);
  });

  it('expires the challenge after five minutes', async () => {
    const user = await userWithTwoFactor();
    const challengeToken = await challengeFor(user);
    clock.advance(5 * 60_000 + 10_000);
    const late = await post('/auth/2fa/verify', { challengeToken, code: currentTotp(user.secret, clock) });
    expect(late.status).toBe(401);
    expect(late.body).toMatchObject({ code: 'invalid_token', field: 'challengeToken' });
  });

  it('caps wrong codes per account, whatever IPs they come from', async () => {
    const user = await userWithTwoFactor();
    const challengeToken = await challengeFor(user);
    const wrong = currentTotp(user.secret, clock, 10);
    const statuses: number[] = [];
    for (let index = 0; index < 12; index += 1) {
      statuses.push((await post('/auth/2fa/verify', { challengeToken, code: wrong }, fromIp(`203.0.113.${index + 1}`))).status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
  });
});

describe('backup codes', () => {
  it('work once, in any case and with dashes, and the use is audited', async () => {
    const user = await userWithTwoFactor();
    const code = user.backupCodes[0]!;
    const typed = `${code.slice(0, 5)}-${code.slice(5)}`.toLowerCase();
    const first = await post('/auth/2fa/verify', { challengeToken: await challengeFor(user), backupCode: typed });
    expect(first.status).toBe(200);
    const again = await post('/auth/2fa/verify', { challengeToken: await challengeFor(user), backupCode: code });
    expect(again.status).toBe(401);
    expect(again.body.field).toBe('backupCode');
    const [used] = await auditRows(api.database, 'auth.2fa.backup_code_used');
    expect(used).toMatchObject({ resourceId: user.userId, after: { unusedBackupCodes: 7 } });
    expect(JSON.stringify(await auditRows(api.database))).not.toContain(code);
  });

  it('sign in exactly once when one code is sent 50 times at once', async () => {
    const user = await userWithTwoFactor();
    const challengeToken = await challengeFor(user);
    const code = user.backupCodes[3]!;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        post('/auth/2fa/verify', { challengeToken, backupCode: code }, fromIp(`10.1.0.${index + 1}`)),
      ),
    );
    const statuses = results.map((result) => result.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.every((status) => status === 200 || status === 401 || status === 429)).toBe(true);
    const unused = await api.database.db.selectFrom('twoFactorBackupCodes').where('usedAt', 'is', null).select('id').execute();
    expect(unused).toHaveLength(7);
  });

  it('are consumed exactly once by 50 concurrent database calls (no throttle in front)', async () => {
    const user = await userWithTwoFactor();
    const code = user.backupCodes[5]!;
    const results = await Promise.all(Array.from({ length: 50 }, () => consumeBackupCode(api.database.db, user.userId, code, clock.now())));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await consumeBackupCode(api.database.db, user.userId, user.backupCodes[6]!.toLowerCase(), clock.now())).toBe(true);
    // another user's code does not work for this user
    const other = await userWithTwoFactor();
    expect(await consumeBackupCode(api.database.db, user.userId, other.backupCodes[0]!, clock.now())).toBe(false);
  });
});

describe('turning two-factor authentication off', () => {
  it('needs the password and a current code; afterwards sign-in is password only and backup codes are gone', async () => {
    const user = await userWithTwoFactor();
    const noCode = await post('/auth/2fa/disable', { password: user.password, code: currentTotp(user.secret, clock, 7) }, user.headers);
    expect(noCode.status).toBe(422);
    expect(noCode.body.field).toBe('code');
    const wrongPassword = await post(
      '/auth/2fa/disable',
      { password: 'not my password', code: currentTotp(user.secret, clock) },
      user.headers,
    );
    expect(wrongPassword.status).toBe(422);
    expect(wrongPassword.body.field).toBe('password');

    const off = await post('/auth/2fa/disable', { password: user.password, code: currentTotp(user.secret, clock) }, user.headers);
    expect(off.status).toBe(204);
    const login = await post('/auth/login', { email: user.email, password: user.password });
    expect(login.body.accessToken).toEqual(expect.any(String));
    expect(await api.database.db.selectFrom('twoFactorBackupCodes').select('id').execute()).toEqual([]);
    const [event] = await auditRows(api.database, 'auth.2fa.disable');
    expect(event).toMatchObject({ resourceId: user.userId, before: { twoFactorEnabled: true }, after: { twoFactorEnabled: false } });
  });

  it('accepts a backup code instead of the app', async () => {
    const user = await userWithTwoFactor();
    const off = await post('/auth/2fa/disable', { password: user.password, backupCode: user.backupCodes[1] }, user.headers);
    expect(off.status).toBe(204);
  });
});
