import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { AppError } from '../shared/errors.ts';
import { findCredentialsById, findRoles } from '../users/user.queries.ts';
import type { AuthDeps } from './auth-deps.ts';
import { countUnusedBackupCodes } from './backup-codes.ts';
import type { Caller } from './caller.ts';
import { releaseAttempt, reserveAttempt, SECOND_FACTOR_THROTTLE } from './login-throttle.ts';
import { verifyChallengeToken } from './own-tokens.ts';
import { userActor } from './principal.ts';
import { checkSecondFactor } from './second-factor.ts';
import { startSession, type TokenPair } from './start-session.ts';

export interface TwoFactorProof {
  challengeToken: string;
  code?: string | undefined;
  backupCode?: string | undefined;
}

/** Second step of sign-in: the challenge from /auth/login plus a TOTP code or a backup code. */
export async function verifyTwoFactorLogin(db: Kysely<DB>, proof: TwoFactorProof, caller: Caller, deps: AuthDeps): Promise<TokenPair> {
  const userId = verifyChallengeToken(proof.challengeToken, deps.keys, deps.config, deps.clock.now());
  const subject = { scope: '2fa' as const, account: userId, ipHash: caller.ipHash };
  await reserveAttempt(db, subject, SECOND_FACTOR_THROTTLE, deps.clock.now());

  const user = await findCredentialsById(db, userId);
  if (!user || user.status !== 'active' || !user.totpEnabledAt) {
    throw new AppError('invalid_token', 'The sign-in challenge is no longer valid; sign in again.', 'challengeToken');
  }
  const method = await checkSecondFactor(db, user, proof, deps);
  const field = proof.code !== undefined ? 'code' : 'backupCode';
  if (!method) {
    await recordAudit(db, caller.audit, {
      action: 'auth.login',
      resourceType: 'user',
      resourceId: user.id,
      outcome: 'failure',
      metadata: { reason: field === 'code' ? 'wrong_totp_code' : 'wrong_backup_code' },
    });
    throw new AppError('unauthenticated', 'That code is not valid (or was already used).', field);
  }
  await releaseAttempt(db, subject);

  const roles = await findRoles(db, user.id);
  return db.transaction().execute(async (trx) => {
    const session = await startSession(trx, { id: user.id, roles }, caller, deps);
    const actor = { ...caller.audit, principal: userActor(user.id, roles) };
    await recordAudit(trx, actor, {
      action: 'auth.login',
      resourceType: 'user',
      resourceId: user.id,
      metadata: { sessionId: session.sessionId, secondFactor: method },
    });
    if (method === 'backup_code') {
      await recordAudit(trx, actor, {
        action: 'auth.2fa.backup_code_used',
        resourceType: 'user',
        resourceId: user.id,
        after: { unusedBackupCodes: await countUnusedBackupCodes(trx, user.id) },
      });
    }
    return session;
  });
}
