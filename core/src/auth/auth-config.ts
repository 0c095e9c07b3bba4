import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** A development service key: only the SHA-256 of the presented `ii_sk_…` token is configured. */
export interface ServiceKeyConfig {
  readonly name: string;
  readonly sha256: Buffer;
  readonly scopes: readonly string[];
}

/** Client-credentials JWTs from an external OAuth2 server (the MCP server's credentials). */
export interface ServiceJwtConfig {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly algorithms: readonly ('RS256' | 'ES256' | 'PS256')[];
  readonly jwksRequestsPerMinute: number;
  readonly jwksTimeoutMs: number;
}

export interface AuthConfig {
  /** `iss` of the access tokens this API issues. */
  readonly issuer: string;
  /** `aud` every token presented to this API must carry (ours and the OAuth2 server's). */
  readonly audience: string;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlDays: number;
  /** PEM of the ES256 signing key; undefined → generated once under `keysDir` (never on PROD). */
  readonly jwtPrivateKeyPem: string | undefined;
  /** `kid` of the signing key; undefined → its RFC 7638 thumbprint. */
  readonly jwtKeyId: string | undefined;
  /** AES-256-GCM key for secrets at rest (TOTP secrets); undefined → generated like the JWT key. */
  readonly dataEncryptionKey: Buffer | undefined;
  readonly keysDir: string;
  /** Where password-reset links point (the storefront). */
  readonly appUrl: string;
  readonly serviceJwt: ServiceJwtConfig | undefined;
  readonly serviceKeys: readonly ServiceKeyConfig[];
  /** False on the PROD tier: keys must come from the environment there. */
  readonly allowGeneratedKeys: boolean;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const AuthEnv = z.object({
  JWT_PRIVATE_KEY: z.string().optional(),
  JWT_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits, dot, dash and underscore only')
    .optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  DATA_ENCRYPTION_KEY: z.string().optional(),
  KEYS_DIR: z.string().optional(),
  PUBLIC_APP_URL: z.string().url().default('http://localhost:3000'),
  SERVICE_JWKS_URL: z.string().url().optional(),
  SERVICE_JWT_ISSUER: z.string().min(1).optional(),
  SERVICE_JWT_ALGORITHMS: z.string().default('RS256,ES256'),
  SERVICE_JWKS_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(600).default(10),
  SERVICE_JWKS_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(3_000),
  SERVICE_KEYS: z.string().optional(),
});

function fail(variable: string, message: string): never {
  throw new Error(`Invalid configuration: ${variable}: ${message}`);
}

/** `name:sha256hex[:scope scope…]`, comma-separated. Scopes themselves contain colons. */
export function parseServiceKeys(value: string): ServiceKeyConfig[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^([A-Za-z0-9._-]{1,64}):([0-9a-fA-F]{64})(?::(.*))?$/.exec(entry);
      if (!match) fail('SERVICE_KEYS', 'each entry is name:sha256hex[:scope scope…]');
      const [, name = '', hex = '', scopes = ''] = match;
      return { name, sha256: Buffer.from(hex, 'hex'), scopes: scopes.split(/\s+/).filter(Boolean) };
    });
}

function parseDataKey(value: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (key.length !== 32) fail('DATA_ENCRYPTION_KEY', 'must be 32 bytes, as 64 hex digits or base64');
  return key;
}

const SERVICE_ALGORITHMS = ['RS256', 'ES256', 'PS256'] as const;

/**
 * Reads the identity settings. On the PROD tier the signing and encryption keys must be given
 * and development service keys are refused, so a misconfigured production process stops at once.
 */
export function loadAuthConfig(env: Record<string, string | undefined>, context: { publicApiUrl: string; tier: string }): AuthConfig {
  const clean = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = AuthEnv.safeParse(clean);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(issue?.path.join('.') ?? 'auth settings', issue?.message ?? 'invalid value');
  }
  const values = parsed.data;
  const isProd = context.tier === 'prod';
  if (isProd && !values.JWT_PRIVATE_KEY) fail('JWT_PRIVATE_KEY', 'required on the PROD tier (an ES256 private key in PEM)');
  if (isProd && !values.DATA_ENCRYPTION_KEY) fail('DATA_ENCRYPTION_KEY', 'required on the PROD tier (32 bytes, hex or base64)');
  if (isProd && values.SERVICE_KEYS) fail('SERVICE_KEYS', 'development service keys are refused on the PROD tier; use SERVICE_JWKS_URL');
  if (Boolean(values.SERVICE_JWKS_URL) !== Boolean(values.SERVICE_JWT_ISSUER)) {
    fail(values.SERVICE_JWKS_URL ? 'SERVICE_JWT_ISSUER' : 'SERVICE_JWKS_URL', 'SERVICE_JWKS_URL and SERVICE_JWT_ISSUER go together');
  }
  const algorithms = values.SERVICE_JWT_ALGORITHMS.split(',').map((item) => item.trim());
  const unknown = algorithms.find((item) => !(SERVICE_ALGORITHMS as readonly string[]).includes(item));
  if (unknown !== undefined) fail('SERVICE_JWT_ALGORITHMS', `${unknown} is not one of ${SERVICE_ALGORITHMS.join(', ')}`);

  return Object.freeze({
    issuer: values.JWT_ISSUER ?? context.publicApiUrl,
    audience: values.JWT_AUDIENCE ?? context.publicApiUrl,
    accessTokenTtlSeconds: values.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: values.REFRESH_TOKEN_TTL_DAYS,
    // Environment files often carry PEMs on one line with literal "\n".
    jwtPrivateKeyPem: values.JWT_PRIVATE_KEY?.replace(/\\n/g, '\n'),
    jwtKeyId: values.JWT_KEY_ID,
    dataEncryptionKey: values.DATA_ENCRYPTION_KEY ? parseDataKey(values.DATA_ENCRYPTION_KEY) : undefined,
    keysDir: values.KEYS_DIR ?? path.join(repoRoot, '.data', 'keys'),
    appUrl: values.PUBLIC_APP_URL.replace(/\/$/, ''),
    serviceJwt:
      values.SERVICE_JWKS_URL && values.SERVICE_JWT_ISSUER
        ? {
            jwksUrl: values.SERVICE_JWKS_URL,
            issuer: values.SERVICE_JWT_ISSUER,
            algorithms: algorithms as ServiceJwtConfig['algorithms'],
            jwksRequestsPerMinute: values.SERVICE_JWKS_REQUESTS_PER_MINUTE,
            jwksTimeoutMs: values.SERVICE_JWKS_TIMEOUT_MS,
          }
        : undefined,
    serviceKeys: values.SERVICE_KEYS ? parseServiceKeys(values.SERVICE_KEYS) : [],
    allowGeneratedKeys: !isProd,
  });
}
