import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type JwksPathMode = { kind: 'jwks'; keys: object[] } | { kind: 'status'; status: number } | { kind: 'hang' };

/**
 * A stand-in for an OAuth2 server's JWKS endpoint (and for attacker URLs): a real local HTTP
 * server that counts every request per path, so tests can prove how often keys were fetched.
 */
export interface JwksServer {
  readonly baseUrl: string;
  url(path: string): string;
  hits(path: string): number;
  close(): Promise<void>;
}

export async function startJwksServer(paths: Record<string, JwksPathMode>): Promise<JwksServer> {
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const mode = paths[path] ?? { kind: 'status', status: 404 };
    if (mode.kind === 'hang') return;
    if (mode.kind === 'status') {
      res.writeHead(mode.status, { 'content-type': 'application/json' }).end('{"error":"unavailable"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: mode.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    url: (path) => `${baseUrl}${path}`,
    hits: (path) => counts.get(path) ?? 0,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
