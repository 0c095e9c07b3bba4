import { z } from 'zod';
import { findInstructors, getInstructor } from '../../instructors/index.ts';
import { CursorParam, LimitParam } from '../../shared/pagination.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { pageOf } from '../schemas.ts';

export const ListInstructorsQuery = z
  .object({
    limit: LimitParam.describe('Page size, 1–100 (default 20)'),
    cursor: CursorParam.describe('Opaque cursor from the previous page'),
    serviceId: z.string().min(1).max(64).optional().describe('Only instructors offering this catalog service'),
    regionId: z.string().min(1).max(64).optional().describe('Only instructors covering this neighborhood or borough'),
  })
  .strict();

export const PublicInstructorSchema = z
  .object({
    id: z.string(),
    name: z.string().describe('First name and last initial'),
    bio: z.string(),
    photoUrl: z.string().nullable(),
    yearsExperience: z.number().int(),
    isFounding: z.boolean(),
    isVerified: z.boolean(),
    backgroundChecked: z.boolean(),
    rating: z.number().nullable().describe('Average rating, shown from 3 reviews'),
    reviewCount: z.number().int(),
    services: z.array(
      z.object({
        serviceId: z.string(),
        name: z.string(),
        category: z.string(),
        hourlyRateCents: z.number().int(),
        durations: z.array(z.number().int()),
        locationTypes: z.array(z.string()),
      }),
    ),
    neighborhoods: z.array(z.string()),
  })
  .meta({ id: 'PublicInstructor' });

/** Public instructor browsing: no login needed. */
export function instructorRoutes(api: ApiRouter, deps: ApiDeps): void {
  api.add(
    {
      method: 'get',
      path: '/instructors',
      operationId: 'listInstructors',
      summary: 'Browse live instructors',
      tags: ['instructors'],
      auth: 'public',
      query: ListInstructorsQuery,
      responses: { 200: { description: 'A page of instructors', schema: pageOf(PublicInstructorSchema) } },
    },
    async (req, res) => {
      const query = ListInstructorsQuery.parse(req.query);
      const page = await findInstructors(deps.database.db, query);
      res.setHeader('Cache-Control', 'public, max-age=30');
      res.json(page);
    },
  );

  const InstructorParams = z.object({ id: z.string().min(1).max(64).describe('Instructor id') }).strict();
  api.add(
    {
      method: 'get',
      path: '/instructors/:id',
      operationId: 'getInstructor',
      summary: 'An instructor’s public profile and offerings',
      tags: ['instructors'],
      auth: 'public',
      params: InstructorParams,
      responses: { 200: { description: 'The instructor', schema: PublicInstructorSchema } },
    },
    async (req, res) => {
      const { id } = InstructorParams.parse(req.params);
      res.setHeader('Cache-Control', 'public, max-age=30');
      res.json(await getInstructor(deps.database.db, id));
    },
  );
}
