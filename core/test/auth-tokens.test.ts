import { createHash, createHmac, generateKeyPairSync, randomBytes, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createServer } from 'node:net';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadAuthConfig } from '../src/auth/auth-config.ts';
import { loadAuthKeys } from '../src/auth/keys.ts';
import { createServiceJwtVerifier } from '../src/auth/service-tokens.ts';
import { loadConfig } from '../src/config.ts';
import type { ApiRouter } from '../src/http/openapi/route.ts';
import { requirePermission } from '../src/http/require-permission.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { createLogger } from '../src/shared/logger.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows, bearer, createUserWithPassword, NO_RATE_LIMITS_ENV } from './support/auth.ts';
import { type JwksServer, startJwksServer } from './support/jwks-server.ts';

/**
 * R11: token attacks get 401, never a 500 and never a fetch from an attacker-chosen URL; the
 * OAuth2 server's JWKS is fetched within its rate limit whatever `kid`s arrive.
 */
const clock = fixedClock('2030-02-01T10:00:00Z');
const SERVICE_ISSUER = 'https://auth.example.test';
const JWKS_PER_MINUTE = 5;
const SERVICE_KEY = `ii_sk_${randomBytes(24).toString('base64url')}`;

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attackerEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwks = [
  { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
  { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' },
];

let jwksServer: JwksServer;
let api: TestApi;
let userId: string;

function whoamiRoute(api: ApiRouter): void {
  api.add(
    {
      method: 'get',
      path: '/test/whoami',
      operationId: 'testWhoami',
      summary: 'Test route: the resolved principal',
      tags: ['test'],
      auth: { permission: 'monitoring:access' },
      responses: { 200: { description: 'The principal', schema: z.object({ kind: z.string() }).passthrough() } },
    },
    requirePermission('monitoring:access'),
    (req, res) => {
      const principal = req.principal;
      res.json({
        kind: principal.kind,
        id: principal.kind === 'service' ? principal.serviceId : principal.kind === 'user' ? principal.userId : null,
        scopes: principal.kind === 'service' ? principal.scopes : [],
        onBehalfOf: principal.kind === 'service' ? principal.onBehalfOf : null,
        permissions: [...principal.permissions].sort(),
      });
    },
  );
}

beforeAll(async () => {
  jwksServer = await startJwksServer({
    '/jwks': { kind: 'jwks', keys: jwks },
    '/jwks-down': { kind: 'status', status: 503 },
    '/jwks-hang': { kind: 'hang' },
    '/attacker': { kind: 'jwks', keys: [{ ...attackerEc.publicKey.export({ format: 'jwk' }), kid: 'evil', alg: 'ES256' }] },
  });
  api = await startTestApi({
    clock,
    extraRoutes: whoamiRoute,
    env: {
      ...NO_RATE_LIMITS_ENV,
      SERVICE_JWKS_URL: jwksServer.url('/jwks'),
      SERVICE_JWT_ISSUER: SERVICE_ISSUER,
      SERVICE_JWKS_REQUESTS_PER_MINUTE: String(JWKS_PER_MINUTE),
      SERVICE_KEYS: `dev-mcp:${createHash('sha256').update(SERVICE_KEY).digest('hex')}:ops:read admin:read`,
    },
  });
  userId = (await createUserWithPassword(api.database)).userId;
});
afterAll(async () => {
  await api?.close();
  await jwksServer?.close();
});

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);

/** Builds a JWT by hand, so headers and signatures can be anything an attacker sends. */
function craft(header: object, payload: object, signer: ((input: string) => Buffer) | null): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer ? signer(input).toString('base64url') : ''}`;
}
const es256 = (key: KeyObject) => (input: string) => cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
const rs256 = (key: KeyObject) => (input: string) => cryptoSign('sha256', Buffer.from(input), key);
const hs256 = (secret: string | Buffer) => (input: string) => createHmac('sha256', secret).update(input).digest();

function ownHeader(overrides: object = {}) {
  return { alg: 'ES256', typ: 'at+jwt', kid: api.deps.auth.keys.signing.keyId, ...overrides };
}
function ownClaims(overrides: Record<string, unknown> = {}) {
  const claims: Record<string, unknown> = {
    iss: api.config.auth.issuer,
    aud: api.config.auth.audience,
    sub: userId,
    sid: 'S1',
    roles: ['student'],
    jti: randomUUID(),
    iat: nowSeconds(),
    exp: nowSeconds() + 900,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
}
const ourKey = () => api.deps.auth.keys.signing.privateKey;

function serviceClaims(overrides: Record<string, unknown> = {}) {
  const claims: Record<string, unknown> = {
    iss: SERVICE_ISSUER,
    aud: api.config.auth.audience,
    sub: 'mcp-server',
    client_id: 'mcp-server',
    scope: 'ops:read admin:read',
    iat: nowSeconds(),
    exp: nowSeconds() + 300,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
}

async function me(token: string, headers: Record<string, string> = {}) {
  return api.request('/api/v1/auth/me', { headers: { ...bearer(token), ...headers } });
}
async function whoami(token: string, headers: Record<string, string> = {}) {
  return api.request('/api/v1/test/whoami', { headers: { ...bearer(token), ...headers } });
}

describe('our own access tokens', () => {
  it('accept a correctly signed token (the baseline every attack below changes one thing of)', async () => {
    const { status, body } = await me(craft(ownHeader(), ownClaims(), es256(ourKey())));
    expect(status).toBe(200);
    expect(body.id).toBe(userId);
  });

  const attacks: Array<[string, () => string]> = [
    ['alg none, no signature', () => craft(ownHeader({ alg: 'none' }), ownClaims(), null)],
    ['alg none with a signature', () => craft(ownHeader({ alg: 'none' }), ownClaims(), hs256('x'))],
    [
      'HS256 signed with our public key as the HMAC secret',
      () =>
        craft(
          ownHeader({ alg: 'HS256' }),
          ownClaims(),
          hs256(api.deps.auth.keys.signing.publicKey.export({ format: 'pem', type: 'spki' })),
        ),
    ],
    ['RS256 signed by an attacker RSA key under our kid', () => craft(ownHeader({ alg: 'RS256' }), ownClaims(), rs256(rsa.privateKey))],
    ['ES256 signed by another EC key under our kid', () => craft(ownHeader(), ownClaims(), es256(attackerEc.privateKey))],
    ['no exp', () => craft(ownHeader(), ownClaims({ exp: undefined }), es256(ourKey()))],
    ['exp that is not a number', () => craft(ownHeader(), ownClaims({ exp: 'never' }), es256(ourKey()))],
    ['expired', () => craft(ownHeader(), ownClaims({ iat: nowSeconds() - 1000, exp: nowSeconds() - 60 }), es256(ourKey()))],
    ['wrong audience', () => craft(ownHeader(), ownClaims({ aud: 'https://other-api.example' }), es256(ourKey()))],
    ['no audience', () => craft(ownHeader(), ownClaims({ aud: undefined }), es256(ourKey()))],
    ['wrong issuer', () => craft(ownHeader(), ownClaims({ iss: 'https://evil.example' }), es256(ourKey()))],
    ['unknown kid', () => craft(ownHeader({ kid: 'some-other-key' }), ownClaims(), es256(ourKey()))],
    ['kid with path traversal', () => craft(ownHeader({ kid: '../../../../etc/passwd' }), ownClaims(), es256(ourKey()))],
    ['kid with SQL', () => craft(ownHeader({ kid: "x' OR '1'='1" }), ownClaims(), es256(ourKey()))],
    ['no kid', () => craft({ alg: 'ES256', typ: 'at+jwt' }, ownClaims(), es256(ourKey()))],
    ['a challenge token used as an access token', () => craft(ownHeader({ typ: '2fa-challenge+jwt' }), ownClaims(), es256(ourKey()))],
    ['garbage', () => 'not.a.jwt'],
  ];
  it.each(attacks)('refuse %s with 401 invalid_token', async (_name, build) => {
    const { status, body, headers } = await me(build());
    expect(status).toBe(401);
    expect(body.code).toBe('invalid_token');
    expect(headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('say when a token expired, so clients know to refresh', async () => {
    const { body } = await me(craft(ownHeader(), ownClaims({ exp: nowSeconds() - 60 }), es256(ourKey())));
    expect(body.detail).toMatch(/expired/);
  });

  it('never fetch keys from jku or x5u headers (refused before any network call)', async () => {
    for (const header of [{ jku: jwksServer.url('/attacker') }, { x5u: jwksServer.url('/attacker') }]) {
      const forged = craft({ alg: 'ES256', typ: 'at+jwt', kid: 'evil', ...header }, ownClaims(), es256(attackerEc.privateKey));
      expect((await me(forged)).status).toBe(401);
      const sameKid = craft(ownHeader(header), ownClaims(), es256(ourKey()));
      expect((await me(sameKid)).status).toBe(401);
    }
    expect(jwksServer.hits('/attacker')).toBe(0);
  });

  it('refuse malformed Authorization headers and ignore tokens in the query string', async () => {
    const valid = craft(ownHeader(), ownClaims(), es256(ourKey()));
    expect((await api.request('/api/v1/auth/me', { headers: { authorization: `Basic ${valid}` } })).status).toBe(401);
    expect((await api.request('/api/v1/auth/me', { headers: { authorization: 'Bearer' } })).status).toBe(401);
    expect((await api.request('/api/v1/auth/me', { headers: { authorization: `Bearer ${'a'.repeat(9000)}` } })).status).toBe(401);
    const inQuery = await api.request(`/api/v1/auth/me?access_token=${valid}`);
    expect(inQuery.status).toBe(401);
    expect(inQuery.body.detail).toBe('Sign in to continue.');
  });
});

describe('service principals: client-credentials JWTs checked against the JWKS', () => {
  const rsaToken = (claims: Record<string, unknown> = {}, header: object = {}) =>
    craft({ alg: 'RS256', typ: 'JWT', kid: 'rsa-1', ...header }, serviceClaims(claims), rs256(rsa.privateKey));

  it('map scopes to permissions and keep X-On-Behalf-Of for the trail', async () => {
    const { status, body } = await whoami(rsaToken(), { 'x-on-behalf-of': 'dana@instainstru.com' });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      kind: 'service',
      id: 'mcp-server',
      scopes: ['ops:read', 'admin:read'],
      onBehalfOf: 'dana@instainstru.com',
    });
    expect(body.permissions).toContain('monitoring:access');
    expect(body.permissions).toContain('bookings:read:any');
    expect(body.permissions).not.toContain('users:read:pii');
  });

  it('accept ES256 keys from the same JWKS', async () => {
    const token = jwt.sign(serviceClaims({ client_id: undefined, azp: 'ops-bot' }), ec.privateKey, { algorithm: 'ES256', keyid: 'ec-1' });
    const { status, body } = await whoami(token);
    expect(status).toBe(200);
    expect(body.id).toBe('ops-bot');
  });

  it('answer 403 for a scope that lacks the permission, and audit the denial with the acting service', async () => {
    const token = rsaToken({ scope: 'admin:read' });
    const { status } = await whoami(token, { 'x-on-behalf-of': 'dana@instainstru.com' });
    expect(status).toBe(403);
    const denial = (await auditRows(api.database, 'rbac.denied')).at(-1);
    expect(denial).toMatchObject({
      actorType: 'service',
      actorId: 'mcp-server',
      clientId: 'mcp-server',
      onBehalfOf: 'dana@instainstru.com',
      outcome: 'denied',
      resourceId: 'GET /api/v1/test/whoami',
    });
    expect(denial?.metadata).toEqual({ permission: 'monitoring:access' });
  });

  const serviceAttacks: Array<[string, () => string]> = [
    ['wrong audience', () => rsaToken({ aud: 'https://mcp.example.test' })],
    ['no audience', () => rsaToken({ aud: undefined })],
    ['no exp', () => rsaToken({ exp: undefined })],
    ['expired', () => rsaToken({ iat: nowSeconds() - 4000, exp: nowSeconds() - 3600 })],
    ['not yet valid', () => rsaToken({ nbf: nowSeconds() + 3600 })],
    ['unknown issuer', () => rsaToken({ iss: 'https://evil.example' })],
    ['alg none', () => craft({ alg: 'none', kid: 'rsa-1' }, serviceClaims(), null)],
    [
      'HS256 with the RSA public key as secret',
      () => craft({ alg: 'HS256', kid: 'rsa-1' }, serviceClaims(), hs256(rsa.publicKey.export({ format: 'pem', type: 'spki' }))),
    ],
    ['ES256 header on the RSA key', () => craft({ alg: 'ES256', kid: 'rsa-1' }, serviceClaims(), es256(ec.privateKey))],
    ['RS256 header on the EC key', () => craft({ alg: 'RS256', kid: 'ec-1' }, serviceClaims(), rs256(rsa.privateKey))],
    ['a signature by another key', () => craft({ alg: 'ES256', kid: 'ec-1' }, serviceClaims(), es256(attackerEc.privateKey))],
    [
      'jku pointing at the attacker',
      () => craft({ alg: 'ES256', kid: 'evil', jku: jwksServer.url('/attacker') }, serviceClaims(), es256(attackerEc.privateKey)),
    ],
    ['x5u pointing at the attacker', () => rsaToken({}, { x5u: jwksServer.url('/attacker') })],
    ['kid with path traversal', () => rsaToken({}, { kid: '../jwks' })],
    ['kid with SQL', () => rsaToken({}, { kid: '1; DROP TABLE users; --' })],
  ];
  it.each(serviceAttacks)('refuse %s with 401', async (_name, build) => {
    const { status, body } = await whoami(build());
    expect(status).toBe(401);
    expect(body.code).toBe('invalid_token');
  });

  it('stay within the JWKS rate limit under a flood of random kids, and keep serving cached keys', async () => {
    expect((await whoami(rsaToken())).status).toBe(200);
    const before = jwksServer.hits('/jwks');
    const flood = await Promise.all(
      Array.from({ length: 40 }, () => whoami(craft({ alg: 'RS256', kid: randomUUID() }, serviceClaims(), rs256(rsa.privateKey)))),
    );
    expect(flood.map((response) => response.status)).toEqual(Array(40).fill(401));
    const fetched = jwksServer.hits('/jwks') - before;
    // the bucket holds JWKS_PER_MINUTE tokens (some spent above) and refills one every 12 s
    expect(fetched).toBeLessThanOrEqual(JWKS_PER_MINUTE);
    expect((await whoami(rsaToken())).status).toBe(200);
    expect(jwksServer.hits('/attacker')).toBe(0);
  });

  it('answer 401, not 500, while the JWKS endpoint is down, slow or unreachable', async () => {
    const logger = createLogger({ level: 'silent', name: 'test' });
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const token = rsaToken();
    const header = jwt.decode(token, { complete: true })!.header as unknown as Record<string, unknown>;
    for (const jwksUrl of [jwksServer.url('/jwks-down'), jwksServer.url('/jwks-hang'), `http://127.0.0.1:${closedPort}/jwks`]) {
      const verify = createServiceJwtVerifier(
        { jwksUrl, issuer: SERVICE_ISSUER, algorithms: ['RS256'], jwksRequestsPerMinute: 10, jwksTimeoutMs: 300 },
        api.config.auth.audience,
        clock,
        logger,
      );
      const started = Date.now();
      await expect(verify(token, header, null)).rejects.toMatchObject({ code: 'invalid_token', status: 401 });
      expect(Date.now() - started).toBeLessThan(2000);
    }

    const down = await startTestApi({
      clock,
      extraRoutes: whoamiRoute,
      env: { ...NO_RATE_LIMITS_ENV, SERVICE_JWKS_URL: jwksServer.url('/jwks-down'), SERVICE_JWT_ISSUER: SERVICE_ISSUER },
    });
    try {
      const { status, body } = await down.request('/api/v1/test/whoami', { headers: bearer(token) });
      expect(status).toBe(401);
      expect(body.code).toBe('invalid_token');
    } finally {
      await down.close();
    }
  });
});

describe('development service keys', () => {
  it('authenticate a configured key with its scopes', async () => {
    const { status, body } = await whoami(SERVICE_KEY, { 'x-on-behalf-of': 'dev@instainstru.com' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ kind: 'service', id: 'dev-mcp', scopes: ['ops:read', 'admin:read'], onBehalfOf: 'dev@instainstru.com' });
  });

  it('refuse a key one character off', async () => {
    const last = SERVICE_KEY.at(-1) === 'A' ? 'B' : 'A';
    expect((await whoami(`${SERVICE_KEY.slice(0, -1)}${last}`)).status).toBe(401);
    expect((await whoami('ii_sk_')).status).toBe(401);
  });

  it('refuse a malformed X-On-Behalf-Of instead of recording garbage', async () => {
    const { status, body } = await whoami(SERVICE_KEY, { 'x-on-behalf-of': 'x'.repeat(300) });
    expect(status).toBe(400);
    expect(body.field).toBe('X-On-Behalf-Of');
  });

  it('give a service no own-account powers', async () => {
    expect((await me(SERVICE_KEY)).status).toBe(403);
  });
});

describe('configuration', () => {
  const pem = ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const dataKey = randomBytes(32).toString('hex');

  it('on the PROD tier, requires the signing and data keys and refuses development service keys', () => {
    expect(() => loadConfig({ DB_TIER: 'prod', DATA_ENCRYPTION_KEY: dataKey })).toThrow(/JWT_PRIVATE_KEY/);
    expect(() => loadConfig({ DB_TIER: 'prod', JWT_PRIVATE_KEY: pem })).toThrow(/DATA_ENCRYPTION_KEY/);
    const hash = createHash('sha256').update('x').digest('hex');
    expect(() => loadConfig({ DB_TIER: 'prod', JWT_PRIVATE_KEY: pem, DATA_ENCRYPTION_KEY: dataKey, SERVICE_KEYS: `a:${hash}` })).toThrow(
      /SERVICE_KEYS/,
    );
    const config = loadConfig({
      DB_TIER: 'prod',
      JWT_PRIVATE_KEY: pem.replace(/\n/g, '\\n'),
      DATA_ENCRYPTION_KEY: dataKey,
      JWT_KEY_ID: 'k-2030',
    });
    const keys = loadAuthKeys(config.auth, createLogger({ level: 'silent', name: 'test' }));
    expect(keys.signing.keyId).toBe('k-2030');
  });

  it('refuses a signing key that is not EC P-256, and a JWKS URL without an issuer', () => {
    const rsaPem = rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const config = loadAuthConfig({ JWT_PRIVATE_KEY: rsaPem, DATA_ENCRYPTION_KEY: dataKey }, { publicApiUrl: 'http://x', tier: 'int' });
    expect(() => loadAuthKeys(config, createLogger({ level: 'silent', name: 'test' }))).toThrow(/EC P-256/);
    expect(() => loadAuthConfig({ SERVICE_JWKS_URL: 'http://127.0.0.1/jwks' }, { publicApiUrl: 'http://x', tier: 'int' })).toThrow(
      /SERVICE_JWT_ISSUER/,
    );
    expect(() => loadAuthConfig({ SERVICE_KEYS: 'mcp:nothex' }, { publicApiUrl: 'http://x', tier: 'int' })).toThrow(/SERVICE_KEYS/);
  });
});
