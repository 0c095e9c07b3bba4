import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkApiHealth, healthUrl } from './api-health.ts';
import { loadConfig } from './config.ts';

describe('healthUrl', () => {
  it.each([
    ['http://localhost:8000', 'http://localhost:8000/api/v1/health'],
    ['http://localhost:8000/', 'http://localhost:8000/api/v1/health'],
    ['https://example.test/backend', 'https://example.test/backend/api/v1/health'],
    ['https://example.test/backend//', 'https://example.test/backend/api/v1/health'],
  ])('%s → %s', (base, expected) => {
    expect(healthUrl(base)).toBe(expected);
  });
});

describe('loadConfig', () => {
  it.each([
    [{}, 'http://localhost:8000'],
    [{ VITE_API_URL: '' }, 'http://localhost:8000'],
    [{ VITE_API_URL: ' https://api.example.test ' }, 'https://api.example.test'],
  ])('%j → %s', (env, expected) => {
    expect(loadConfig(env).apiBaseUrl).toBe(expected);
  });
});

describe('checkApiHealth', () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('is ok when the health endpoint answers 200', async () => {
    const base = await serve((req, res) => {
      res.writeHead(req.url === '/api/v1/health' ? 200 : 404).end('{"status":"ok"}');
    });
    expect(await checkApiHealth(base)).toEqual({ status: 'ok' });
  });

  it('is unreachable with the status when the endpoint answers 503', async () => {
    const base = await serve((_req, res) => res.writeHead(503).end());
    expect(await checkApiHealth(base)).toEqual({ status: 'unreachable', reason: 'health check answered HTTP 503' });
  });

  it('is unreachable when nothing listens', async () => {
    const base = await serve((_req, res) => res.end());
    server?.close();
    const health = await checkApiHealth(base);
    expect(health.status).toBe('unreachable');
  });

  it('gives up after the timeout when the API hangs', async () => {
    const base = await serve(() => {
      /* never answers */
    });
    expect(await checkApiHealth(base, { timeoutMs: 200 })).toEqual({
      status: 'unreachable',
      reason: 'no answer within 0.2 s',
    });
  });
});
