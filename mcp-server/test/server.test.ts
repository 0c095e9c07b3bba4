import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMcpConfig } from '../src/config.ts';
import { createMcpHttpServer } from '../src/server.ts';

const token = 'test-static-token-0123456789abcdefghij';
let baseUrl: string;
let server: ReturnType<typeof createMcpHttpServer>;

beforeAll(async () => {
  server = createMcpHttpServer({ ...loadMcpConfig({}), staticToken: token });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('MCP copilot shell', () => {
  it('completes the MCP handshake with the official SDK client and lists its tools', async () => {
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    expect(client.getServerVersion()?.name).toBe('instainstru');
    const { tools } = await client.listTools();
    expect(Array.isArray(tools)).toBe(true);
    await client.close();
  });

  it('refuses a missing or wrong token with 401, a token in the URL with 400, GET with 405 and a foreign Origin with 403', async () => {
    const post = (headers: Record<string, string>, path = '/mcp') =>
      fetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: '{}',
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: `Bearer ${token}x` })).status).toBe(401);
    expect((await post({ authorization: `Bearer ${token}` }, `/mcp?access_token=${token}`)).status).toBe(400);
    expect((await fetch(`${baseUrl}/mcp`)).status).toBe(405);
    expect((await post({ authorization: `Bearer ${token}`, origin: 'https://evil.example' })).status).toBe(403);
  });

  it('answers its health check without credentials', async () => {
    const response = await fetch(`${baseUrl}/healthz`);
    expect(await response.json()).toEqual({ status: 'ok', service: 'instainstru-mcp' });
  });
});
