import cors from 'cors';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { AppError } from '../shared/errors.ts';
import type { ApiDeps } from './deps.ts';
import { errorHandler } from './error-handler.ts';
import { authenticate } from './authenticate.ts';
import { deadline, requestId, requestLog, requireJsonBodies } from './request-context.ts';
import { healthRoutes } from './routes/health.ts';
import { instructorRoutes } from './routes/instructors.ts';
import { publicAvailabilityRoutes } from './routes/public-availability.ts';
import { availabilityRoutes } from './routes/availability.ts';
import { adminRateLimitRoutes } from './routes/admin-rate-limits.ts';
import { adminJobRoutes } from './routes/admin-jobs.ts';
import { registerJobStateMetrics } from '../jobs/metrics.ts';
import { adminAuditLogRoutes } from './routes/admin-audit-log.ts';
import { adminUserRoutes } from './routes/admin-users.ts';
import { authRoutes } from './routes/auth.ts';
import { bookingRoutes } from './routes/bookings.ts';
import { checkoutRoutes } from './routes/checkout.ts';
import { adminPaymentActionRoutes } from './routes/admin-payments-actions.ts';
import { searchRoutes } from './routes/search.ts';
import { adminSearchRoutes } from './routes/admin-search.ts';
import { adminFoundingRoutes } from './routes/admin-founding.ts';
import { adminPaymentRoutes } from './routes/admin-payments.ts';
import { studentPaymentRoutes } from './routes/payments-student.ts';
import { payoutRoutes } from './routes/payouts.ts';
import { paymentMethodRoutes } from './routes/payment-methods.ts';
import { payoutAccountRoutes } from './routes/payout-accounts.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { adminPaymentMismatchRoutes } from './routes/admin-payment-mismatches.ts';
import { creditRoutes } from './routes/credits.ts';
import { tipRoutes } from './routes/tips.ts';
import { referralRoutes } from './routes/referrals.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { docsRoutes } from './docs/docs.ts';
import { buildOpenApiDocument, toOpenApiPath } from './openapi/document.ts';
import { type ApiRouter, createApiRouter, type RouteSpec } from './openapi/route.ts';
import { rateLimit } from './rate-limit.ts';

export interface AppOptions {
  /**
   * Registers more routes on the /api/v1 router, documented, rate limited and response-checked
   * like the built-in ones. For tests (throwaway routes) and modules wired from outside this file.
   */
  extraRoutes?: (api: ApiRouter, deps: ApiDeps) => void;
}

/** Builds the Express app. Every route lives under /api/v1; errors go through one handler. */
export function createApp(deps: ApiDeps, options: AppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.set('query parser', 'simple');

  app.use(requestId());
  app.use(deps.metrics.httpMiddleware());
  app.use(requestLog(deps.logger));
  app.use(
    helmet({
      contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
      frameguard: { action: 'deny' },
    }),
  );
  app.use(
    cors({
      origin: (origin, callback) => callback(null, origin === undefined || deps.config.corsOrigins.includes(origin)),
      credentials: true,
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'ETag', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'],
      maxAge: 600,
    }),
  );
  app.use(deadline(deps.config.requestTimeoutMs));
  // Stripe signs the raw bytes, so its webhook route reads its own body, before the JSON parser.
  const rawBodyRoutes = createApiRouter({
    validateResponses: deps.config.env !== 'production',
    guards: (spec: RouteSpec) => [labelRoute(spec), rateLimit(deps, spec.rateLimit ?? 'default')],
  });
  webhookRoutes(rawBodyRoutes, deps);
  app.use('/api/v1', rawBodyRoutes.router);
  app.use(requireJsonBodies());
  app.use(express.json({ limit: deps.config.bodyLimit, strict: true }));

  // Each route: metrics label, then its rate-limit policy (after authentication, so signed-in
  // callers are limited per principal and everyone else per IP), then its own handlers.
  const routerOptions = {
    validateResponses: deps.config.env !== 'production',
    guards: (spec: RouteSpec) => [labelRoute(spec), rateLimit(deps, spec.rateLimit ?? 'default')],
  };
  // Routes that check their own credentials (the metrics token is not an access token).
  const selfAuthenticated = createApiRouter(routerOptions);
  metricsRoutes(selfAuthenticated, deps);
  app.use('/api/v1', selfAuthenticated.router);

  app.use(authenticate(deps));
  const api = createApiRouter(routerOptions);
  healthRoutes(api, deps);
  instructorRoutes(api, deps);
  publicAvailabilityRoutes(api, deps);
  availabilityRoutes(api, deps);
  adminRateLimitRoutes(api, deps);
  adminJobRoutes(api, deps);
  registerJobStateMetrics(deps.metrics.registry, { db: deps.database.db });
  authRoutes(api, deps);
  adminAuditLogRoutes(api, deps);
  adminUserRoutes(api, deps);
  bookingRoutes(api, deps);
  checkoutRoutes(api, deps);
  adminPaymentActionRoutes(api, deps);
  searchRoutes(api, deps);
  adminSearchRoutes(api, deps);
  adminPaymentRoutes(api, deps);
  studentPaymentRoutes(api, deps);
  payoutRoutes(api, deps);
  adminFoundingRoutes(api, deps);
  paymentMethodRoutes(api, deps);
  payoutAccountRoutes(api, deps);
  adminPaymentMismatchRoutes(api, deps);
  creditRoutes(api, deps);
  tipRoutes(api, deps);
  referralRoutes(api, deps);
  options.extraRoutes?.(api, deps);
  app.use('/api/v1', api.router);

  const openApiDocument = buildOpenApiDocument([...selfAuthenticated.routes, ...rawBodyRoutes.routes, ...api.routes], {
    version: deps.config.release ?? 'dev',
    serverUrl: deps.config.publicApiUrl,
  });
  app.get('/openapi.json', (_req, res) => {
    res.locals.routeTemplate = '/openapi.json';
    res.json(openApiDocument);
  });
  docsRoutes(app);

  app.use((req, _res, next) => {
    next(new AppError('not_found', `No route for ${req.method} ${req.path}.`));
  });
  app.use(errorHandler(deps.logger, deps.errorReporter));
  return app;
}

function labelRoute(spec: RouteSpec): RequestHandler {
  const template = toOpenApiPath(spec.path);
  return (_req, res, next) => {
    res.locals.routeTemplate = template;
    next();
  };
}
