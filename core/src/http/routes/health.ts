import { isSchemaCurrent } from '@instainstru/db';
import { sql } from 'kysely';
import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';

const HealthResponse = z.object({
  status: z.literal('ok'),
  service: z.string(),
  release: z.string(),
  uptimeSeconds: z.number().int(),
});

const Check = z.object({
  ok: z.boolean(),
  latencyMs: z.number().optional(),
  error: z.string().optional(),
  skipped: z.boolean().optional().describe('Not configured, so not checked'),
  critical: z.boolean().optional().describe('false: a failure degrades service but does not make the process unready'),
});
const ReadyResponse = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z
    .object({
      database: Check.extend({ engine: z.enum(['postgres', 'pglite']) }),
      migrations: Check,
    })
    .catchall(Check),
});

/** Liveness (no I/O: is the process serving?) and readiness (can it do useful work?). */
export function healthRoutes(api: ApiRouter, deps: ApiDeps): void {
  api.add(
    {
      method: 'get',
      path: '/health',
      operationId: 'getHealth',
      summary: 'Liveness: the process is serving',
      tags: ['health'],
      auth: 'public',
      responses: { 200: { description: 'Alive', schema: HealthResponse } },
    },
    (_req, res) => {
      res.json({
        status: 'ok',
        service: 'instainstru-api',
        release: deps.config.release ?? 'dev',
        uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
      });
    },
  );

  api.add(
    {
      method: 'get',
      path: '/ready',
      operationId: 'getReadiness',
      summary: 'Readiness: database reachable, migrations current (Redis reported, not required)',
      tags: ['health'],
      auth: 'public',
      responses: { 200: { description: 'Ready', schema: ReadyResponse }, 503: { description: 'Not ready', schema: ReadyResponse } },
    },
    async (_req, res) => {
      const started = Date.now();
      let database: z.infer<typeof Check>;
      let migrations: z.infer<typeof Check>;
      try {
        await sql`select 1`.execute(deps.database.db);
        database = { ok: true, latencyMs: Date.now() - started };
        migrations = (await isSchemaCurrent(deps.database.db)) ? { ok: true } : { ok: false, error: 'pending migrations' };
      } catch {
        database = { ok: false, error: 'unreachable' };
        migrations = { ok: false, error: 'unknown (database unreachable)' };
      }
      const redis = await checkRedis(deps);
      // Redis is degradable (per-process rate limits, money routes 503) and shared by every
      // process, so an outage must not take all of them out of the load balancer at once.
      const ready = database.ok && migrations.ok;
      res.status(ready ? 200 : 503).json({
        status: ready ? 'ready' : 'not_ready',
        checks: { database: { ...database, engine: deps.database.engine }, migrations, redis },
      });
    },
  );
}

async function checkRedis(deps: ApiDeps): Promise<z.infer<typeof Check>> {
  if (!deps.redis) return { ok: true, skipped: true, critical: false };
  const started = Date.now();
  try {
    await deps.redis.ping();
    return { ok: true, latencyMs: Date.now() - started, critical: false };
  } catch {
    return { ok: false, error: 'unreachable', latencyMs: Date.now() - started, critical: false };
  }
}
