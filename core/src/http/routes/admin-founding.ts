import { z } from 'zod';
import { FOUNDING_CAP, getFoundingSummary, grantFounding } from '../../pricing/index.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';

const InstructorParams = z.object({ id: z.string().min(1).max(64).describe('Instructor (user) id') }).strict();

export const FoundingGrantSchema = z
  .object({
    instructorId: z.string(),
    foundingNumber: z.number().int().min(1).max(FOUNDING_CAP),
    grantedAt: z.string(),
    feeBps: z.number().int().describe('The founding rate: 8% for life'),
    granted: z.boolean().describe('False when the instructor already was a founding instructor'),
  })
  .meta({ id: 'FoundingGrant' });

export const FoundingSummarySchema = z
  .object({
    count: z.number().int(),
    cap: z.number().int(),
    remaining: z.number().int(),
    feeBps: z.number().int(),
    instructors: z.array(
      z.object({
        instructorId: z.string(),
        foundingNumber: z.number().int(),
        name: z.string(),
        grantedAt: z.string().nullable(),
        isLive: z.boolean(),
        verificationStatus: z.string(),
      }),
    ),
  })
  .meta({ id: 'FoundingSummary' });

/** Founding instructors: at most 100, 8% for life; granting is audited and atomic. */
export function adminFoundingRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;

  api.add(
    {
      method: 'post',
      path: '/admin/instructors/:id/founding',
      operationId: 'grantFoundingStatus',
      summary: 'Make an instructor a founding instructor (lowest free number; idempotent; 409 when all 100 are taken)',
      tags: ['admin', 'instructors'],
      auth: { permission: 'instructors:verify' },
      params: InstructorParams,
      responses: {
        200: { description: 'The founding grant', schema: FoundingGrantSchema },
        404: { description: 'No such instructor' },
        409: { description: 'All founding places are taken' },
      },
    },
    requirePermission('instructors:verify'),
    async (req, res) => {
      const { id } = InstructorParams.parse(req.params);
      const grant = await grantFounding(db, id, req.auditContext, deps.clock.now());
      res.json({ ...grant, grantedAt: grant.grantedAt.toISOString() });
    },
  );

  api.add(
    {
      method: 'get',
      path: '/admin/founding',
      operationId: 'getFoundingSummary',
      summary: 'Founding places used, the cap, what remains, and who holds them',
      tags: ['admin', 'instructors'],
      auth: { permission: 'founding:read' },
      responses: { 200: { description: 'The founding summary', schema: FoundingSummarySchema } },
    },
    requirePermission('founding:read'),
    async (_req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json(await getFoundingSummary(db));
    },
  );
}
