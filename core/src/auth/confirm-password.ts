import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { AppError } from '../shared/errors.ts';
import type { CredentialRow } from '../users/user.queries.ts';
import type { AuthDeps } from './auth-deps.ts';
import type { Caller } from './caller.ts';
import { keyedHash } from './crypto.ts';
import { releaseAttempt, reserveAttempt, SIGN_IN_THROTTLE, type ThrottleSubject } from './login-throttle.ts';
import { verifyPassword } from './passwords.ts';

/** Sign-in attempts are counted per e-mail (keyed hash) and IP. */
export function signInSubject(deps: AuthDeps, email: string, ipHash: string): ThrottleSubject {
  return { scope: 'login', account: keyedHash(deps.keys.hashingKey, 'email', email.trim().toLowerCase()), ipHash };
}

/**
 * Re-checks a signed-in user's password before a sensitive change (two-factor settings). It
 * counts against the same throttle as sign-in, so a stolen access token cannot be used to guess it.
 */
export async function confirmPassword(
  db: Kysely<DB>,
  user: Pick<CredentialRow, 'email' | 'passwordHash'>,
  password: string,
  caller: Caller,
  deps: AuthDeps,
): Promise<void> {
  const subject = signInSubject(deps, user.email, caller.ipHash);
  await reserveAttempt(db, subject, SIGN_IN_THROTTLE, deps.clock.now());
  const matches = await verifyPassword(user.passwordHash ?? deps.dummyPasswordHash, password);
  if (!matches || !user.passwordHash) throw new AppError('validation_error', 'The password is incorrect.', 'password');
  await releaseAttempt(db, subject);
}
