import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { AppError } from '../shared/errors.ts';
import type { ApiDeps } from './deps.ts';
import { errorHandler } from './error-handler.ts';
import { authenticate } from './authenticate.ts';
import { deadline, requestId, requestLog, requireJsonBodies } from './request-context.ts';
import { healthRoutes } from './routes/health.ts';
import { instructorRoutes } from './routes/instructors.ts';
import { buildOpenApiDocument } from './openapi/document.ts';
import { createApiRouter } from './openapi/route.ts';

/** Builds the Express app. Every route lives under /api/v1; errors go through one handler. */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.set('query parser', 'simple');

  app.use(requestId());
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
  app.use(requireJsonBodies());
  app.use(express.json({ limit: deps.config.bodyLimit, strict: true }));
  app.use(authenticate(deps));

  const api = createApiRouter({ validateResponses: deps.config.env !== 'production' });
  healthRoutes(api, deps);
  instructorRoutes(api, deps);
  app.use('/api/v1', api.router);

  const openApiDocument = buildOpenApiDocument(api.routes, { version: deps.config.release ?? 'dev', serverUrl: deps.config.publicApiUrl });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });

  app.use((req, _res, next) => {
    next(new AppError('not_found', `No route for ${req.method} ${req.path}.`));
  });
  app.use(errorHandler(deps.logger));
  return app;
}
