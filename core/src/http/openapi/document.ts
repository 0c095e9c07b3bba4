import { z } from 'zod';
import { ErrorBodySchema, type RouteSpec } from './route.ts';

const COMMON_ERRORS: Record<number, string> = {
  422: 'Invalid input: `field` names the parameter at fault',
  429: 'Too many requests: wait `Retry-After` seconds',
  500: 'Unexpected error (logged)',
  503: 'Temporarily unavailable: retry after `Retry-After` seconds',
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline' }) as Record<string, unknown>;
}

function stripDialect(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}

function objectParameters(schema: z.ZodObject | undefined, location: 'query' | 'path' | 'header'): unknown[] {
  if (!schema) return [];
  const json = stripDialect(jsonSchema(schema, 'input')) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: location,
      required: location === 'path' || (json.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: propertySchema,
    };
  });
}

/** `/bookings/:id` → `/bookings/{id}` */
export function toOpenApiPath(path: string): string {
  return `/api/v1${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;
}

/** The OpenAPI 3.1 document, generated from the zod schemas the routes declare. */
export function buildOpenApiDocument(routes: readonly RouteSpec[], info: { version: string; serverUrl: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of routes) {
    const path = toOpenApiPath(spec.path);
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(spec.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema
          ? { content: { [response.contentType ?? 'application/json']: { schema: stripDialect(jsonSchema(response.schema, 'output')) } } }
          : {}),
      };
    }
    const errorStatuses = {
      ...COMMON_ERRORS,
      ...(spec.auth === 'public' ? {} : { 401: 'Missing or invalid credentials', 403: 'Not allowed' }),
    };
    for (const [status, description] of Object.entries(errorStatuses)) {
      responses[status] ??= { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    paths[path] ??= {};
    paths[path][spec.method] = {
      operationId: spec.operationId,
      summary: spec.summary,
      tags: spec.tags,
      ...(spec.auth === 'public' ? { security: [] } : {}),
      ...(typeof spec.auth === 'object' ? { 'x-required-permission': spec.auth.permission } : {}),
      parameters: [
        ...objectParameters(spec.params, 'path'),
        ...objectParameters(spec.query, 'query'),
        ...objectParameters(spec.headers, 'header'),
      ],
      ...(spec.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: stripDialect(jsonSchema(spec.body, 'input')) } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'InstaInstru API',
      version: info.version,
      description:
        'Instant booking of private instructors in New York City. Errors are `{detail, code, field}`; lists are `{items, nextCursor}`.',
    },
    servers: [{ url: info.serverUrl }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: stripDialect(jsonSchema(ErrorBodySchema, 'output')) },
    },
    paths,
  };
}
