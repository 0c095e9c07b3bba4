import type { Database } from '@instainstru/db';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RateLimitOutcome, RateLimitStoreKind } from './rate-limit.ts';

/** The API's Prometheus metrics, on a registry of its own (tests build several apps per process). */
export interface Metrics {
  readonly registry: Registry;
  /** Counts every request; labels each with its route template so cardinality stays bounded. */
  httpMiddleware(): RequestHandler;
  recordRateLimitDecision(policy: string, outcome: RateLimitOutcome, store: RateLimitStoreKind): void;
}

/** The label a request is measured under until a route claims it (404s, preflight, static pages). */
export const UNMATCHED_ROUTE = 'unmatched';

declare module 'express-serve-static-core' {
  interface Locals {
    /** The route template (e.g. `/api/v1/instructors/{id}`) the request matched, for metrics. */
    routeTemplate?: string;
  }
}

/** Builds the registry: HTTP latency and concurrency, database pool, rate-limit decisions, process metrics. */
export function createMetrics(deps: { database: Pick<Database, 'poolStats'> }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to response, by route template and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'Requests being served right now',
    registers: [registry],
  });
  new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const stats = deps.database.poolStats();
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'busy' }, Math.max(0, stats.total - stats.idle));
    },
  });
  new Gauge({
    name: 'db_pool_waiting_requests',
    help: 'Queries waiting for a free database connection',
    registers: [registry],
    collect() {
      this.set(deps.database.poolStats().waiting);
    },
  });
  const rateLimitDecisions = new Counter({
    name: 'rate_limit_decisions_total',
    help: 'Rate-limit decisions by policy, outcome and the store that decided',
    labelNames: ['policy', 'outcome', 'store'] as const,
    registers: [registry],
  });

  return {
    registry,
    httpMiddleware() {
      return (req, res, next) => {
        const stopTimer = duration.startTimer();
        inFlight.inc();
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          inFlight.dec();
          stopTimer({ method: req.method, route: res.locals.routeTemplate ?? UNMATCHED_ROUTE, status_code: String(res.statusCode) });
        };
        res.once('finish', finish);
        res.once('close', finish);
        next();
      };
    },
    recordRateLimitDecision(policy, outcome, store) {
      rateLimitDecisions.inc({ policy, outcome, store });
    },
  };
}
