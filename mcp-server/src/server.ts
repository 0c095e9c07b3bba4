import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { McpConfig } from './config.ts';

const MAX_BODY_BYTES = 256 * 1024;

/**
 * A fresh MCP server per request (stateless Streamable HTTP with JSON responses). The copilot's
 * tools are registered here module by module as their issues land; today the server answers the
 * MCP handshake and an empty tool list.
 */
export function createCopilot(): McpServer {
  return new McpServer(
    { name: 'instainstru', title: 'InstaInstru ops copilot', version: '0.1.0' },
    { capabilities: { tools: {} }, instructions: 'InstaInstru operations copilot. Tools arrive module by module.' },
  );
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time comparison through fixed-length digests, so length differences leak nothing. */
export function tokenMatches(presented: string, expectedHash: Buffer): boolean {
  return timingSafeEqual(sha256(presented), expectedHash);
}

function reply(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw Object.assign(new Error('invalid JSON'), { status: 400 });
  }
}

/** The HTTP front of the MCP server: /healthz, and /mcp behind the bearer token. */
export function createMcpHttpServer(config: McpConfig & { staticToken: string }): http.Server {
  const tokenHash = sha256(config.staticToken);
  return http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') {
      reply(res, 200, { status: 'ok', service: 'instainstru-mcp' });
      return;
    }
    if (url.pathname !== '/mcp') {
      reply(res, 404, { error: 'not_found' });
      return;
    }
    const origin = req.headers.origin;
    if (origin && !config.allowedOrigins.includes(origin)) {
      reply(res, 403, { error: 'forbidden', error_description: 'Origin not allowed' });
      return;
    }
    if (req.method !== 'POST') {
      reply(res, 405, { error: 'method_not_allowed' }, { allow: 'POST' });
      return;
    }
    if (url.searchParams.has('access_token') || url.searchParams.has('token')) {
      reply(res, 400, { error: 'invalid_request', error_description: 'Send the token in the Authorization header, never in the URL' });
      return;
    }
    const authorization = req.headers.authorization ?? '';
    const presented = authorization.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : '';
    if (!presented || !tokenMatches(presented, tokenHash)) {
      reply(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer realm="instainstru-mcp"' });
      return;
    }
    try {
      const body = await readJson(req);
      const server = createCopilot();
      // No sessionIdGenerator → stateless mode (the SDK treats an absent generator as undefined).
      const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      if (!res.headersSent) reply(res, status, { error: status === 500 ? 'internal_error' : (error as Error).message });
    }
  });
}
