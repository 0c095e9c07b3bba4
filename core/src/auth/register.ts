import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { createUser } from '../users/create-user.ts';
import { type CurrentUser, getCurrentUser } from '../users/get-current-user.ts';
import type { AuthDeps } from './auth-deps.ts';
import type { Caller } from './caller.ts';
import { hashPassword } from './passwords.ts';
import { userActor } from './principal.ts';
import { startSession, type TokenPair } from './start-session.ts';

export interface Registration {
  email: string;
  password: string;
  firstName: string;
  lastName: string;
  /** Admins are made by admins (roles:assign), never by signing up. */
  role: 'student' | 'instructor';
}

/** Creates an account and signs it in. A taken e-mail answers 409 `already_exists` on `email`. */
export async function register(
  db: Kysely<DB>,
  input: Registration,
  caller: Caller,
  deps: AuthDeps,
): Promise<{ user: CurrentUser; tokens: TokenPair }> {
  const passwordHash = await hashPassword(input.password);
  const now = deps.clock.now();
  const roles = [input.role];
  const { userId, tokens } = await db.transaction().execute(async (trx) => {
    const id = await createUser(
      trx,
      { email: input.email, passwordHash, firstName: input.firstName, lastName: input.lastName, roles },
      now,
    );
    const session = await startSession(trx, { id, roles }, caller, deps);
    await recordAudit(
      trx,
      { ...caller.audit, principal: userActor(id, roles) },
      { action: 'auth.register', resourceType: 'user', resourceId: id, after: { roles }, metadata: { sessionId: session.sessionId } },
    );
    return { userId: id, tokens: session };
  });
  return { user: await getCurrentUser(db, userId, deps.rolePermissions), tokens };
}
