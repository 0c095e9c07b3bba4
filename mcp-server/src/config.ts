import { z } from 'zod';

const Env = z.object({
  MCP_HOST: z.string().default('127.0.0.1'),
  MCP_PORT: z.coerce.number().int().min(0).max(65535).default(8100),
  INSTAINSTRU_API_URL: z.string().url().default('http://localhost:8000'),
  /** Development-only static bearer token; generated and printed at start when unset. */
  MCP_STATIC_TOKEN: z.string().min(32).optional(),
  MCP_ALLOWED_ORIGINS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .default([]),
});

export interface McpConfig {
  readonly host: string;
  readonly port: number;
  readonly apiUrl: string;
  readonly staticToken: string | undefined;
  readonly allowedOrigins: readonly string[];
}

/** The MCP server's configuration, read once from an environment object. */
export function loadMcpConfig(env: Record<string, string | undefined>): McpConfig {
  const clean = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = Env.safeParse(clean);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid configuration: ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid value'}`);
  }
  const values = parsed.data;
  return Object.freeze({
    host: values.MCP_HOST,
    port: values.MCP_PORT,
    apiUrl: values.INSTAINSTRU_API_URL,
    staticToken: values.MCP_STATIC_TOKEN,
    allowedOrigins: values.MCP_ALLOWED_ORIGINS,
  });
}
