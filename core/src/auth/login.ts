import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { AppError } from '../shared/errors.ts';
import { findCredentialsByEmail, findRoles } from '../users/user.queries.ts';
import type { AuthDeps } from './auth-deps.ts';
import type { Caller } from './caller.ts';
import { signInSubject } from './confirm-password.ts';
import { releaseAttempt, reserveAttempt, SIGN_IN_THROTTLE } from './login-throttle.ts';
import { issueChallengeToken } from './own-tokens.ts';
import { hashPassword, needsRehash, verifyPassword } from './passwords.ts';
import { userActor } from './principal.ts';
import { startSession, type TokenPair } from './start-session.ts';

export type LoginResult = { requires2fa: false; tokens: TokenPair } | { requires2fa: true; challengeToken: string };

const WRONG_CREDENTIALS = 'The email or password is incorrect.';

/**
 * Signs a user in with e-mail and password. Accounts with two-factor authentication get a
 * challenge token instead of tokens, to trade at /auth/2fa/verify with a code.
 *
 * The throttle is consulted before the (slow, deliberately) password hash runs; unknown e-mails
 * are checked against a dummy hash so the answer's timing does not reveal which accounts exist.
 */
export async function login(
  db: Kysely<DB>,
  input: { email: string; password: string },
  caller: Caller,
  deps: AuthDeps,
): Promise<LoginResult> {
  const subject = signInSubject(deps, input.email, caller.ipHash);
  await reserveAttempt(db, subject, SIGN_IN_THROTTLE, deps.clock.now());

  const user = await findCredentialsByEmail(db, input.email);
  const matches = await verifyPassword(user?.passwordHash ?? deps.dummyPasswordHash, input.password);
  if (!user?.passwordHash || !matches) {
    await recordAudit(db, caller.audit, {
      action: 'auth.login',
      resourceType: 'user',
      resourceId: user?.id ?? null,
      outcome: 'failure',
      metadata: { reason: user ? 'wrong_password' : 'unknown_account' },
    });
    throw new AppError('unauthenticated', WRONG_CREDENTIALS, null);
  }
  await releaseAttempt(db, subject);

  if (user.status !== 'active') {
    await recordAudit(db, caller.audit, {
      action: 'auth.login',
      resourceType: 'user',
      resourceId: user.id,
      outcome: 'denied',
      metadata: { reason: `account_${user.status}` },
    });
    throw new AppError('forbidden', 'This account is not active. Contact support to restore it.');
  }
  if (needsRehash(user.passwordHash)) {
    await db
      .updateTable('users')
      .set({ passwordHash: await hashPassword(input.password) })
      .where('id', '=', user.id)
      .execute();
  }
  if (user.totpEnabledAt) {
    return { requires2fa: true, challengeToken: issueChallengeToken(deps.keys, deps.config, user.id, deps.clock.now()) };
  }

  const roles = await findRoles(db, user.id);
  const tokens = await db.transaction().execute(async (trx) => {
    const session = await startSession(trx, { id: user.id, roles }, caller, deps);
    await recordAudit(
      trx,
      { ...caller.audit, principal: userActor(user.id, roles) },
      { action: 'auth.login', resourceType: 'user', resourceId: user.id, metadata: { sessionId: session.sessionId, secondFactor: null } },
    );
    return session;
  });
  return { requires2fa: false, tokens };
}
