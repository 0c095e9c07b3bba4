import { z } from 'zod';
import { principalKey } from '../../auth/principal.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import {
  type RateLimitPolicyChanges,
  RateLimitPolicyName,
  RateLimitPolicySchema,
  updateRateLimitPolicies,
} from '../rate-limit-policies.ts';
import { requirePermission } from '../require-permission.ts';

export const UpdateRateLimitsBody = z
  .object({
    policies: z
      .partialRecord(RateLimitPolicyName, RateLimitPolicySchema.nullable())
      .describe('The policies to change, each a full policy; `null` removes the override so the start-up value applies again'),
  })
  .strict();

export const RateLimitsResponse = z
  .object({
    store: z.enum(['redis', 'memory']).describe('Where limits are counted: Redis (shared by every process) or this process'),
    redisHealthy: z.boolean().describe('False when Redis is configured but unreachable (per-process fallback, money routes 503)'),
    refreshSeconds: z.number().describe('How soon every other API process applies a change'),
    policies: z.array(
      RateLimitPolicySchema.extend({
        name: RateLimitPolicyName,
        source: z.enum(['built_in', 'config', 'override']),
        updatedAt: z.string().nullable(),
        updatedBy: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'RateLimits' });

function currentLimits(deps: ApiDeps): z.infer<typeof RateLimitsResponse> {
  return {
    store: deps.rateLimiter.backend,
    redisHealthy: deps.rateLimiter.redisHealthy(),
    refreshSeconds: deps.config.rateLimitRefreshMs / 1000,
    policies: deps.rateLimiter.policies.list().map((policy) => ({
      name: policy.name,
      limit: policy.limit,
      periodSeconds: policy.periodSeconds,
      mode: policy.mode,
      failClosed: policy.failClosed,
      source: policy.source,
      updatedAt: policy.updatedAt?.toISOString() ?? null,
      updatedBy: policy.updatedBy,
    })),
  };
}

/** Rate limits as admins see and change them at run time; every change is audited. */
export function adminRateLimitRoutes(api: ApiRouter, deps: ApiDeps): void {
  api.add(
    {
      method: 'get',
      path: '/admin/rate-limits',
      operationId: 'getRateLimits',
      summary: 'The rate-limit policies in force, and where they are counted',
      tags: ['admin'],
      auth: { permission: 'rate_limits:manage' },
      responses: { 200: { description: 'The policies', schema: RateLimitsResponse } },
    },
    requirePermission('rate_limits:manage'),
    async (_req, res) => {
      await deps.rateLimiter.policies.refresh();
      res.setHeader('Cache-Control', 'no-store');
      res.json(currentLimits(deps));
    },
  );

  api.add(
    {
      method: 'put',
      path: '/admin/rate-limits',
      operationId: 'updateRateLimits',
      summary: 'Change rate-limit policies (enforce, shadow or off; limits; fail-closed) for every API process',
      tags: ['admin'],
      auth: { permission: 'rate_limits:manage' },
      body: UpdateRateLimitsBody,
      responses: { 200: { description: 'The policies after the change', schema: RateLimitsResponse } },
    },
    requirePermission('rate_limits:manage'),
    async (req, res) => {
      const { policies } = UpdateRateLimitsBody.parse(req.body);
      await updateRateLimitPolicies(
        deps.database,
        deps.rateLimiter.policies,
        req.auditContext,
        policies as RateLimitPolicyChanges,
        principalKey(req.principal),
      );
      res.setHeader('Cache-Control', 'no-store');
      res.json(currentLimits(deps));
    },
  );
}
