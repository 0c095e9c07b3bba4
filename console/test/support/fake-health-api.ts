import { createServer, type Server } from 'node:http';

/**
 * A stand-in for the API's health endpoint on a fixed port, so a console built against
 * http://127.0.0.1:<port> can be shown a healthy API, a slow one, or none at all.
 */
export interface FakeHealthApi {
  readonly url: string;
  /** Starts answering (again) on the same port. */
  start(): Promise<void>;
  /** Stops listening and drops open connections: the browser then sees a refused connection. */
  stop(): Promise<void>;
  /** Holds health answers until the returned function is called. */
  holdAnswers(): () => void;
}

export function createFakeHealthApi(port: number): FakeHealthApi {
  let server: Server | undefined;
  let answersReleased: Promise<void> = Promise.resolve();

  const handle: Parameters<typeof createServer>[1] = (req, res) => {
    // The console is served from another port, so the browser needs CORS to read the answer.
    res.setHeader('access-control-allow-origin', '*');
    if (req.method !== 'GET' || req.url !== '/api/v1/health') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"not found","code":"not_found"}');
      return;
    }
    void answersReleased.then(() => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
  };

  return {
    url: `http://127.0.0.1:${port}`,
    async start() {
      if (server) return;
      const starting = createServer(handle);
      await new Promise<void>((resolve, reject) => {
        starting.once('error', reject);
        starting.listen(port, '127.0.0.1', resolve);
      });
      server = starting;
    },
    async stop() {
      if (!server) return;
      const stopping = server;
      server = undefined;
      stopping.closeAllConnections();
      await new Promise((resolve) => stopping.close(resolve));
    },
    holdAnswers() {
      let release = () => {};
      answersReleased = new Promise((resolve) => {
        release = resolve;
      });
      return release;
    },
  };
}
