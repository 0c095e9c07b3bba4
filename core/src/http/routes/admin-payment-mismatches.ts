import { z } from 'zod';
import { listPaymentMismatches, MISMATCH_KINDS, resolvePaymentMismatch } from '../../payments/reconcile/index.ts';
import { CursorParam, LimitParam } from '../../shared/pagination.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';
import { pageOf } from '../schemas.ts';

export const PaymentMismatchSchema = z
  .object({
    id: z.string(),
    bookingId: z.string().nullable(),
    kind: z.string().describe(`One of ${MISMATCH_KINDS.join(', ')}`),
    ours: z.unknown().describe('Our record when last compared'),
    theirs: z.unknown().describe("The provider's PaymentIntent when last compared"),
    detectedAt: z.string(),
    lastSeenAt: z.string(),
    resolvedAt: z.string().nullable(),
    resolvedBy: z.string().nullable().describe('An admin user id, or "reconciliation" when it went away by itself'),
    resolutionNote: z.string().nullable(),
  })
  .meta({ id: 'PaymentMismatch' });

const ListMismatchesQuery = z
  .object({
    status: z.enum(['open', 'resolved', 'all']).default('open'),
    bookingId: z.string().min(1).max(64).optional(),
    kind: z.enum(MISMATCH_KINDS).optional(),
    limit: LimitParam,
    cursor: CursorParam,
  })
  .strict();

const MismatchIdParams = z.object({ id: z.string().min(1).max(64) }).strict();
const ResolveMismatchBody = z.object({ note: z.string().trim().min(3).max(1000).describe('What was found and done') }).strict();

/** Reconciliation findings for admins: list (open/resolved) and resolve with a note (audited). */
export function adminPaymentMismatchRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;

  api.add(
    {
      method: 'get',
      path: '/admin/payments/mismatches',
      operationId: 'listPaymentMismatches',
      summary: 'Differences between our payment records and the provider, found by reconciliation',
      tags: ['admin', 'payments'],
      auth: { permission: 'payments:read:any' },
      query: ListMismatchesQuery,
      responses: { 200: { description: 'A page of mismatches, newest first', schema: pageOf(PaymentMismatchSchema) } },
    },
    requirePermission('payments:read:any'),
    async (req, res) => {
      const query = ListMismatchesQuery.parse(req.query);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(await listPaymentMismatches(db, query));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/admin/payments/mismatches/:id/resolve',
      operationId: 'resolvePaymentMismatch',
      summary: 'Close a mismatch after looking into it (audited with the note)',
      tags: ['admin', 'payments'],
      auth: { permission: 'payments:refund' },
      params: MismatchIdParams,
      body: ResolveMismatchBody,
      responses: { 200: { description: 'The resolved mismatch', schema: PaymentMismatchSchema } },
    },
    requirePermission('payments:refund'),
    async (req, res) => {
      const { id } = MismatchIdParams.parse(req.params);
      const body = ResolveMismatchBody.parse(req.body ?? {});
      res.json(await resolvePaymentMismatch(db, req.auditContext, id, body, deps.clock.now()));
    },
  );
}
