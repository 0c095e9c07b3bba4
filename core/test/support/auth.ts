import { type Database, newId } from '@instainstru/db';
import { hashPassword } from '../../src/auth/passwords.ts';
import { totpCode, totpStep } from '../../src/auth/totp.ts';
import type { Clock } from '../../src/shared/clock.ts';
import type { TestApi } from './api.ts';

/**
 * The generic rate limiter (another module, tested on its own) switched off, so identity tests
 * see only the sign-in throttle they are about.
 */
export const NO_RATE_LIMITS_ENV = {
  RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' }, auth: { mode: 'off' }, password_reset: { mode: 'off' } }),
};

export const TEST_PASSWORD = 'correct horse battery';

export interface SignedIn {
  userId: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** `{ authorization: 'Bearer …' }` to spread into request headers. */
  headers: Record<string, string>;
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** Requests "from" another client IP (the app trusts X-Forwarded-For from loopback proxies). */
export function fromIp(ip: string, headers: Record<string, string> = {}): Record<string, string> {
  return { ...headers, 'x-forwarded-for': ip };
}

let counter = 0;

/** A user with a real Argon2id password hash, inserted directly (any role, including admin). */
export async function createUserWithPassword(
  database: Database,
  input: { email?: string; password?: string; roles?: string[]; firstName?: string; status?: string } = {},
): Promise<{ userId: string; email: string; password: string }> {
  const userId = newId();
  counter += 1;
  const email = input.email ?? `user${counter}-${userId.slice(-6).toLowerCase()}@example.com`;
  const password = input.password ?? TEST_PASSWORD;
  await database.db
    .insertInto('users')
    .values({
      id: userId,
      email,
      firstName: input.firstName ?? 'Test',
      lastName: 'User',
      passwordHash: await hashPassword(password),
      status: input.status ?? 'active',
    })
    .execute();
  for (const role of input.roles ?? ['student']) {
    await database.db.insertInto('userRoles').values({ userId, role }).execute();
  }
  return { userId, email, password };
}

/** Signs in over HTTP; fails the test on anything but tokens. */
export async function signIn(
  api: TestApi,
  email: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Omit<SignedIn, 'userId'>> {
  const { status, body } = await api.request('/api/v1/auth/login', { method: 'POST', json: { email, password }, headers });
  if (status !== 200 || !body.accessToken) throw new Error(`login failed: ${status} ${JSON.stringify(body)}`);
  return { email, password, accessToken: body.accessToken, refreshToken: body.refreshToken, headers: bearer(body.accessToken) };
}

/** A fresh user with the role, signed in over HTTP. */
export async function loginAs(
  api: TestApi,
  role: 'admin' | 'instructor' | 'student' | 'guest',
  input: { email?: string } = {},
): Promise<SignedIn> {
  const user = await createUserWithPassword(api.database, { roles: [role], ...input });
  const session = await signIn(api, user.email, user.password);
  return { ...session, userId: user.userId };
}

/** The code an authenticator app shows at the clock's time (or `stepOffset` steps away). */
export function currentTotp(secret: string, clock: Clock, stepOffset = 0): string {
  return totpCode(secret, totpStep(clock.now()) + stepOffset);
}

/** Audit rows, oldest first, for assertions. */
export async function auditRows(database: Database, action?: string) {
  let query = database.db.selectFrom('auditLog').selectAll().orderBy('id');
  if (action) query = query.where('action', '=', action);
  return query.execute();
}
