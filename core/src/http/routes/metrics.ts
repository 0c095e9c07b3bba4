import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { authenticate } from '../authenticate.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';

/** Equal-time comparison of two secrets of any length (hashing first hides the length too). */
export function secretsEqual(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Prometheus may scrape with the static METRICS_TOKEN (`Authorization: Bearer <token>`); anyone
 * else needs a principal with `monitoring:access`. The token is checked before the normal
 * authentication, which would otherwise read it as a malformed access token.
 */
function metricsAccess(deps: ApiDeps): RequestHandler {
  const authenticateCaller = authenticate(deps);
  const guard = requirePermission('monitoring:access');
  return (req, res, next) => {
    const token = deps.config.metricsToken;
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    if (token && bearer && secretsEqual(bearer, token)) {
      next();
      return;
    }
    // authenticate may be async: a rejection must reach the error handler like any other.
    Promise.resolve(
      authenticateCaller(req, res, (error?: unknown) => {
        if (error) next(error);
        else guard(req, res, next);
      }),
    ).catch(next);
  };
}

/**
 * `GET /api/v1/metrics/prometheus` in the Prometheus text format. Mounted ahead of the app-wide
 * authentication because it accepts a credential that is not an access token.
 */
export function metricsRoutes(api: ApiRouter, deps: ApiDeps): void {
  api.add(
    {
      method: 'get',
      path: '/metrics/prometheus',
      operationId: 'getPrometheusMetrics',
      summary: 'Prometheus metrics: HTTP latency by route, in-flight requests, database pool, rate limits, process',
      tags: ['monitoring'],
      auth: { permission: 'monitoring:access' },
      responses: {
        200: {
          description: 'Metrics in the Prometheus text exposition format (also accepts `Authorization: Bearer <METRICS_TOKEN>`)',
          schema: z.string(),
          contentType: 'text/plain; version=0.0.4',
        },
      },
    },
    metricsAccess(deps),
    async (_req, res) => {
      const body = await deps.metrics.registry.metrics();
      res.setHeader('Content-Type', deps.metrics.registry.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.send(body);
    },
  );
}
