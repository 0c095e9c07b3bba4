import { type DB, newId } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import type { Principal } from '../auth/principal.ts';

export interface AuditEntry {
  action: string;
  resourceType: string;
  resourceId?: string | null;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
  outcome?: 'success' | 'denied' | 'failure';
  metadata?: Record<string, unknown>;
}

export interface AuditContext {
  principal: Principal;
  requestId?: string | null;
  /** A salted hash of the caller's IP, never the IP itself. */
  ipHash?: string | null;
}

/**
 * Writes one audit record. Pass the transaction that makes the change, so the change and its
 * record commit (or roll back) together. Secrets must never be part of before/after.
 */
export async function recordAudit(db: Kysely<DB> | Transaction<DB>, context: AuditContext, entry: AuditEntry): Promise<string> {
  const id = newId();
  const { principal } = context;
  await db
    .insertInto('auditLog')
    .values({
      id,
      actorType: principal.kind === 'anonymous' ? 'system' : principal.kind,
      actorId: principal.kind === 'user' ? principal.userId : principal.kind === 'service' ? principal.serviceId : null,
      onBehalfOf: principal.kind === 'service' ? principal.onBehalfOf : null,
      clientId: principal.kind === 'service' ? principal.serviceId : null,
      action: entry.action,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId ?? null,
      before: entry.before === undefined ? null : JSON.stringify(entry.before),
      after: entry.after === undefined ? null : JSON.stringify(entry.after),
      reason: entry.reason ?? null,
      requestId: context.requestId ?? null,
      ipHash: context.ipHash ?? null,
      outcome: entry.outcome ?? 'success',
      metadata: JSON.stringify(entry.metadata ?? {}),
    })
    .execute();
  return id;
}

/** System actions (jobs, schedulers) audit as the system principal. */
export const SYSTEM_CONTEXT: AuditContext = {
  principal: { kind: 'anonymous', permissions: new Set() },
};
