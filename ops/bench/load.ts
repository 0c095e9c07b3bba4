import http from 'node:http';

/**
 * A small closed-loop HTTP load generator (autocannon is not available here): `connections`
 * loops, each on its own keep-alive socket, send one request at a time for `durationMs` and
 * record every latency. Requests still in flight at the end are awaited but not counted.
 */
export interface RequestShape {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  baseUrl: string;
  connections: number;
  durationMs: number;
  /**
   * The request each loop sends; `loop` lets loops act as different clients, `sent` (requests this
   * loop sent before) lets a loop vary its requests, e.g. to miss a cache on purpose.
   */
  request: RequestShape | ((loop: number, sent: number) => RequestShape);
}

export interface LoadResult {
  requests: number;
  /** Requests per second over the measured window. */
  rps: number;
  statusCounts: Record<string, number>;
  non2xx: number;
  errors: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
}

export function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function send(agent: http.Agent, url: URL, shape: RequestShape): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        agent,
        method: shape.method ?? 'GET',
        headers: {
          ...(shape.body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(shape.body)) } : {}),
          ...shape.headers,
        },
      },
      (response) => {
        response.on('error', reject);
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.resume();
      },
    );
    request.on('error', reject);
    request.end(shape.body);
  });
}

/** Runs the load and summarises it. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections, maxFreeSockets: options.connections });
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let errors = 0;
  const started = performance.now();
  const endAt = started + options.durationMs;

  async function loop(index: number): Promise<void> {
    for (let count = 0; performance.now() < endAt; count += 1) {
      const shape = typeof options.request === 'function' ? options.request(index, count) : options.request;
      const sent = performance.now();
      try {
        const status = await send(agent, new URL(shape.path, options.baseUrl), shape);
        if (performance.now() > endAt) break;
        latencies.push(performance.now() - sent);
        statusCounts[status] = (statusCounts[status] ?? 0) + 1;
      } catch {
        errors += 1;
      }
    }
  }

  await Promise.all(Array.from({ length: options.connections }, (_, index) => loop(index)));
  const elapsedMs = Math.min(performance.now(), endAt) - started;
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  const total = latencies.length;
  const non2xx = Object.entries(statusCounts)
    .filter(([status]) => !status.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    requests: total,
    rps: total / (elapsedMs / 1000),
    statusCounts,
    non2xx,
    errors,
    latencyMs: {
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      p99: percentile(sorted, 0.99),
      max: sorted[sorted.length - 1] ?? Number.NaN,
      mean: total ? latencies.reduce((sum, value) => sum + value, 0) / total : Number.NaN,
    },
  };
}
