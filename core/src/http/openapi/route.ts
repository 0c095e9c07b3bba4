import { type RequestHandler, Router } from 'express';
import { z } from 'zod';
import type { RateLimitPolicyName } from '../rate-limit-policies.ts';

export const ErrorBodySchema = z
  .object({
    detail: z.string().describe('What went wrong, in a sentence a person can act on'),
    code: z.string().describe('Stable machine-readable error code'),
    field: z.string().nullable().describe('The input field at fault, if any'),
  })
  .meta({ id: 'Error' });

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Everything the OpenAPI document says about one route; declared next to the route itself. */
export interface RouteSpec {
  method: HttpMethod;
  /** Express-style path relative to /api/v1, e.g. `/bookings/:id`. */
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  /** `public`: no credentials; `authenticated`: any signed-in principal; or a named permission. */
  auth: 'public' | 'authenticated' | { permission: string };
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Request headers the route reads (e.g. Idempotency-Key, If-Match). */
  headers?: z.ZodObject;
  /** The rate-limit policy the route opts into (stricter ones for login, password reset, money); `default` otherwise. */
  rateLimit?: RateLimitPolicyName;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

export interface ApiRouter {
  readonly router: Router;
  readonly routes: RouteSpec[];
  /** Registers a route on the router and in the OpenAPI document. */
  add(spec: RouteSpec, ...handlers: RequestHandler[]): void;
}

/**
 * A router that documents itself. With `validateResponses` (tests and development) every JSON
 * answer is checked against the schema declared for its status, so the document cannot drift
 * from what the API really sends.
 */
export function createApiRouter(options: {
  validateResponses: boolean;
  /** Middleware every route gets before its own handlers, derived from its spec (metrics label, rate limit). */
  guards?: (spec: RouteSpec) => RequestHandler[];
}): ApiRouter {
  const router = Router();
  const routes: RouteSpec[] = [];
  return {
    router,
    routes,
    add(spec, ...handlers) {
      routes.push(spec);
      const chain = [...(options.validateResponses ? [responseValidator(spec)] : []), ...(options.guards?.(spec) ?? []), ...handlers];
      router[spec.method](spec.path, ...chain);
    },
  };
}

function responseValidator(spec: RouteSpec): RequestHandler {
  return (_req, res, next) => {
    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      const declared = spec.responses[res.statusCode];
      const schema = res.statusCode >= 400 ? ErrorBodySchema : declared?.schema;
      if (res.statusCode < 400 && !declared) {
        throw new Error(`${spec.method.toUpperCase()} ${spec.path} answered ${res.statusCode}, which its OpenAPI entry does not declare`);
      }
      if (schema) {
        const checked = schema.safeParse(body);
        if (!checked.success) {
          const issue = checked.error.issues[0];
          throw new Error(
            `${spec.method.toUpperCase()} ${spec.path} ${res.statusCode} response does not match its schema at ${issue?.path.join('.')}: ${issue?.message}`,
          );
        }
      }
      return send(body);
    };
    next();
  };
}
