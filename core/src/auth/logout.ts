import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import type { AuthDeps } from './auth-deps.ts';
import type { Caller } from './caller.ts';
import { sha256Hex } from './crypto.ts';
import type { Principal } from './principal.ts';
import { revokeSessions } from './session.queries.ts';

/**
 * Signs out: revokes the session of the presented refresh token and/or of the access token used
 * to call. Always succeeds (signing out twice is not an error). Access tokens already issued stay
 * valid until they expire (at most ACCESS_TOKEN_TTL_SECONDS); refresh stops at once.
 */
export async function logout(
  db: Kysely<DB>,
  input: { refreshToken?: string | undefined },
  principal: Principal,
  caller: Caller,
  deps: AuthDeps,
): Promise<void> {
  const now = deps.clock.now();
  const targets: Array<{ sessionId: string; userId: string }> = [];
  if (input.refreshToken) {
    const owner = await db
      .selectFrom('refreshTokens as t')
      .innerJoin('authSessions as s', 's.id', 't.sessionId')
      .where('t.tokenHash', '=', sha256Hex(input.refreshToken))
      .select(['s.id as sessionId', 's.userId'])
      .executeTakeFirst();
    if (owner) targets.push(owner);
  }
  if (principal.kind === 'user' && principal.sessionId) targets.push({ sessionId: principal.sessionId, userId: principal.userId });

  await db.transaction().execute(async (trx) => {
    for (const target of targets) {
      const revoked = await revokeSessions(trx, { sessionId: target.sessionId }, 'logout', now);
      if (revoked.length === 0) continue;
      await recordAudit(trx, caller.audit, {
        action: 'auth.logout',
        resourceType: 'user',
        resourceId: target.userId,
        metadata: { sessionId: target.sessionId },
      });
    }
  });
}
