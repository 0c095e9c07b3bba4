import { z } from 'zod';
import { findAuditLog } from '../../audit/index.ts';
import { CursorParam, LimitParam } from '../../shared/pagination.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';
import { pageOf } from '../schemas.ts';

const Instant = z.iso.datetime({ offset: true });

export const AuditLogQuery = z
  .object({
    limit: LimitParam.describe('Page size, 1–100 (default 20)'),
    cursor: CursorParam.describe('Opaque cursor from the previous page'),
    action: z.string().min(1).max(100).optional().describe('Exact action, e.g. auth.login'),
    actorId: z.string().min(1).max(128).optional().describe('User id or service client id'),
    resourceType: z.string().min(1).max(64).optional(),
    resourceId: z.string().min(1).max(256).optional(),
    from: Instant.optional().describe('ISO 8601 instant, inclusive'),
    to: Instant.optional().describe('ISO 8601 instant, exclusive'),
  })
  .strict();

export const AuditLogEntrySchema = z
  .object({
    id: z.string(),
    at: z.string(),
    actorType: z.string().describe('user, service or system'),
    actorId: z.string().nullable(),
    onBehalfOf: z.string().nullable().describe('For service principals: who asked (trail only)'),
    clientId: z.string().nullable(),
    action: z.string(),
    resourceType: z.string(),
    resourceId: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    reason: z.string().nullable(),
    requestId: z.string().nullable(),
    outcome: z.enum(['success', 'denied', 'failure']),
    metadata: z.unknown(),
  })
  .meta({ id: 'AuditLogEntry' });

/** The audit log for ops staff and admins, newest first. */
export function adminAuditLogRoutes(api: ApiRouter, deps: ApiDeps): void {
  api.add(
    {
      method: 'get',
      path: '/admin/audit-log',
      operationId: 'listAuditLog',
      summary: 'Search the audit log',
      tags: ['admin'],
      auth: { permission: 'audit:read' },
      query: AuditLogQuery,
      responses: { 200: { description: 'A page of audit records, newest first', schema: pageOf(AuditLogEntrySchema) } },
    },
    requirePermission('audit:read'),
    async (req, res) => {
      const query = AuditLogQuery.parse(req.query);
      const page = await findAuditLog(deps.database.db, {
        ...query,
        from: query.from === undefined ? undefined : new Date(query.from),
        to: query.to === undefined ? undefined : new Date(query.to),
      });
      res.setHeader('Cache-Control', 'no-store');
      res.json(page);
    },
  );
}
