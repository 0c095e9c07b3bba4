import { type DB, newId } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { enqueueNotification } from '../notifications/outbox.ts';
import { findCredentialsByEmail } from '../users/user.queries.ts';
import type { AuthDeps } from './auth-deps.ts';
import type { Caller } from './caller.ts';
import { randomToken, sha256Hex } from './crypto.ts';

export const PASSWORD_RESET_TTL_MS = 60 * 60_000;
/** More requests than this per account and hour are ignored (against e-mail bombing). */
const MAX_REQUESTS_PER_HOUR = 3;

/**
 * Sends a single-use reset link (valid 1 hour) through the outbox. The caller always gets the
 * same answer, whether or not the account exists, so the endpoint cannot enumerate accounts.
 */
export async function requestPasswordReset(db: Kysely<DB>, email: string, caller: Caller, deps: AuthDeps): Promise<void> {
  const now = deps.clock.now();
  const user = await findCredentialsByEmail(db, email);
  if (!user || user.status !== 'active') {
    await recordAudit(db, caller.audit, {
      action: 'auth.password_reset.request',
      resourceType: 'user',
      resourceId: user?.id ?? null,
      outcome: 'failure',
      metadata: { reason: user ? `account_${user.status}` : 'unknown_account' },
    });
    return;
  }
  const recent = await db
    .selectFrom('passwordResetTokens')
    .where('userId', '=', user.id)
    .where('createdAt', '>', new Date(now.getTime() - 60 * 60_000))
    .select(({ fn }) => fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  if (Number(recent.n) >= MAX_REQUESTS_PER_HOUR) {
    await recordAudit(db, caller.audit, {
      action: 'auth.password_reset.request',
      resourceType: 'user',
      resourceId: user.id,
      outcome: 'denied',
      metadata: { reason: 'too_many_requests' },
    });
    return;
  }

  const token = randomToken('');
  const expiresAt = new Date(now.getTime() + PASSWORD_RESET_TTL_MS);
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('passwordResetTokens')
      .values({ id: newId(now.getTime()), userId: user.id, tokenHash: sha256Hex(token), createdAt: now, expiresAt })
      .execute();
    await enqueueNotification(
      trx,
      {
        channel: 'email',
        template: 'password_reset',
        recipient: user.email,
        payload: {
          firstName: user.firstName,
          resetUrl: `${deps.config.appUrl}/reset-password?token=${encodeURIComponent(token)}`,
          expiresAt: expiresAt.toISOString(),
        },
      },
      now,
    );
    await recordAudit(trx, caller.audit, { action: 'auth.password_reset.request', resourceType: 'user', resourceId: user.id });
  });
}
