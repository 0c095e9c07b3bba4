import { z } from 'zod';
import { ErrorBodySchema, type RouteSpec } from './route.ts';

const COMMON_ERRORS: Record<number, string> = {
  422: 'Invalid input: `field` names the parameter at fault',
  429: 'Too many requests: wait `Retry-After` seconds',
  500: 'Unexpected error (logged)',
  503: 'Temporarily unavailable: retry after `Retry-After` seconds',
};

type JsonSchema = Record<string, unknown>;
type SchemaOf = (schema: z.ZodType, io: 'input' | 'output') => JsonSchema;

function rewriteRefs(value: unknown, names: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, names));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (key === '$ref' && typeof item === 'string' && item.startsWith('#/$defs/')) {
        const id = item.slice('#/$defs/'.length);
        return [key, `#/components/schemas/${names.get(id) ?? id}`];
      }
      return [key, rewriteRefs(item, names)];
    }),
  );
}

/**
 * zod puts schemas named with `.meta({ id })` in a local `$defs` and points at them with
 * `#/$defs/<id>`, which in an OpenAPI document would resolve against the document root, where
 * there is no `$defs`. They move to `components/schemas` instead. When the input and output
 * forms of one id differ (defaults, transforms), the input form is named `<id>Input`.
 */
function schemaCollector(components: Record<string, JsonSchema>): SchemaOf {
  return (schema, io) => {
    const { $schema: _dialect, $defs, ...root } = z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline' }) as JsonSchema;
    const definitions = ($defs ?? {}) as Record<string, JsonSchema>;
    const names = new Map<string, string>();
    for (const [id, definition] of Object.entries(definitions)) {
      const existing = components[id];
      const sameAsExisting = existing === undefined || JSON.stringify(existing) === JSON.stringify(rewriteRefs(definition, new Map()));
      names.set(id, sameAsExisting ? id : `${id}${io === 'input' ? 'Input' : 'Output'}`);
    }
    for (const [id, definition] of Object.entries(definitions)) {
      const name = names.get(id) ?? id;
      const rewritten = rewriteRefs(definition, names) as JsonSchema;
      const existing = components[name];
      if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(rewritten)) {
        throw new Error(`Two different schemas are both named "${name}" in the OpenAPI document`);
      }
      components[name] = rewritten;
    }
    return rewriteRefs(root, names) as JsonSchema;
  };
}

function objectParameters(
  schema: z.ZodObject | undefined,
  location: 'query' | 'path' | 'header',
  schemaOf: SchemaOf,
  components: Record<string, JsonSchema>,
): unknown[] {
  if (!schema) return [];
  let json = schemaOf(schema, 'input') as { $ref?: string; properties?: Record<string, Record<string, unknown>>; required?: string[] };
  if (json.$ref) json = components[json.$ref.split('/').pop() ?? ''] ?? {};
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
  const components: Record<string, JsonSchema> = {};
  const schemaOf = schemaCollector(components);
  schemaOf(ErrorBodySchema, 'output');
  for (const spec of routes) {
    const path = toOpenApiPath(spec.path);
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(spec.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema
          ? { content: { [response.contentType ?? 'application/json']: { schema: schemaOf(response.schema, 'output') } } }
          : {}),
      };
    }
    const errorStatuses = {
      ...COMMON_ERRORS,
      ...(spec.auth === 'public' ? {} : { 401: 'Missing or invalid credentials', 403: 'Not allowed' }),
      ...(spec.headers?.shape['Idempotency-Key']
        ? {
            409: 'Idempotency-Key already used with another body (`idempotency_key_reused`), or its first request is still running (`idempotency_in_progress`, retry after `Retry-After`)',
          }
        : {}),
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
      'x-rate-limit-policy': spec.rateLimit ?? 'default',
      parameters: [
        ...objectParameters(spec.params, 'path', schemaOf, components),
        ...objectParameters(spec.query, 'query', schemaOf, components),
        ...objectParameters(spec.headers, 'header', schemaOf, components),
      ],
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(spec.body, 'input') } } } } : {}),
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
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
    },
    paths,
  };
}
