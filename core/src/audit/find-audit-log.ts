import type { DB, JsonValue } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';

export interface AuditLogFilter {
  limit: number;
  cursor?: string | undefined;
  action?: string | undefined;
  actorId?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface AuditLogEntry {
  id: string;
  at: string;
  actorType: string;
  actorId: string | null;
  onBehalfOf: string | null;
  clientId: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  before: JsonValue | null;
  after: JsonValue | null;
  reason: string | null;
  requestId: string | null;
  outcome: string;
  metadata: JsonValue;
}

const AuditCursor = z.object({ id: z.string() });

/**
 * The audit log, newest first (ULID order), keyset-paginated. `from` is inclusive, `to` exclusive.
 * The IP hash is not shown: it is for correlation by staff with database access only.
 */
export async function findAuditLog(db: Kysely<DB>, filter: AuditLogFilter): Promise<Page<AuditLogEntry>> {
  const after = decodeCursor(filter.cursor, AuditCursor);
  let query = db
    .selectFrom('auditLog')
    .select([
      'id',
      'at',
      'actorType',
      'actorId',
      'onBehalfOf',
      'clientId',
      'action',
      'resourceType',
      'resourceId',
      'before',
      'after',
      'reason',
      'requestId',
      'outcome',
      'metadata',
    ])
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (after) query = query.where('id', '<', after.id);
  if (filter.action) query = query.where('action', '=', filter.action);
  if (filter.actorId) query = query.where('actorId', '=', filter.actorId);
  if (filter.resourceType) query = query.where('resourceType', '=', filter.resourceType);
  if (filter.resourceId) query = query.where('resourceId', '=', filter.resourceId);
  if (filter.from) query = query.where('at', '>=', filter.from);
  if (filter.to) query = query.where('at', '<', filter.to);
  const rows = await query.execute();
  return toPage(
    rows,
    filter.limit,
    (row) => ({ ...row, at: row.at.toISOString() }),
    (row) => ({ id: row.id }),
  );
}
