import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/**
 * A `pg`-Pool-shaped front for one PGlite instance.
 *
 * Why not `@electric-sql/pglite/node-postgres`: measured with pglite 0.5.16 and pg 8.23.1, its
 * connection desynchronises after the first error in the extended protocol (an exclusion
 * violation, a division by zero…) and every later query fails with "Connection terminated
 * unexpectedly". PGlite's own `query`/`exec` recover from errors, so this adapter calls them.
 *
 * PGlite is a single PostgreSQL session, so the pool hands out one client at a time (a FIFO
 * mutex): a transaction owns the session until it is released. A caller that waits longer than
 * `acquireTimeoutMs` gets an error instead of hanging — the usual cause is code that uses `db`
 * instead of `trx` inside a transaction callback (which would work on a real server pool).
 */
export interface PglitePool extends PostgresPool {
  executeSql(text: string, values?: readonly unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number }>;
  stats(): { total: number; idle: number; waiting: number };
}

export function createPglitePool(pglite: PGlite, options: { acquireTimeoutMs?: number } = {}): PglitePool {
  const acquireTimeoutMs = options.acquireTimeoutMs ?? 15_000;
  let busy = false;
  let ended = false;
  const waiters: Array<{ grant: () => void; timer: NodeJS.Timeout }> = [];

  function release(): void {
    const next = waiters.shift();
    if (next) {
      clearTimeout(next.timer);
      next.grant();
    } else {
      busy = false;
    }
  }

  function acquire(): Promise<void> {
    if (ended) return Promise.reject(new Error('The embedded database is closed'));
    if (!busy) {
      busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: resolve,
        timer: setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(
            Object.assign(
              new Error(
                `The embedded database connection stayed busy for ${acquireTimeoutMs} ms ` +
                  '(PGlite has one session; is a query using db instead of trx inside a transaction?)',
              ),
              { code: '57014' },
            ),
          );
        }, acquireTimeoutMs),
      };
      waiters.push(waiter);
    });
  }

  async function run<R>(text: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>> {
    // Without parameters PostgreSQL's simple protocol allows several statements (migrations use it).
    if (parameters.length === 0) {
      const results = await pglite.exec(text);
      const last = results[results.length - 1];
      return toQueryResult<R>(last);
    }
    const result = await pglite.query<R>(text, parameters as unknown[]);
    return toQueryResult<R>(result);
  }

  function makeClient(): PostgresPoolClient {
    let released = false;
    return {
      query: (async (text: string, parameters: readonly unknown[]) => {
        if (released) throw new Error('This embedded database client was already released');
        return run(text, parameters ?? []);
      }) as PostgresPoolClient['query'],
      release() {
        if (released) return;
        released = true;
        // A client returned mid-transaction must not leak its open transaction to the next user.
        if (!ended && pglite.isInTransaction()) {
          pglite.exec('rollback').then(release, release);
          return;
        }
        release();
      },
    };
  }

  return {
    async connect() {
      await acquire();
      return makeClient();
    },
    async end() {
      ended = true;
      for (const waiter of waiters.splice(0)) clearTimeout(waiter.timer);
    },
    async executeSql(text, values = []) {
      await acquire();
      try {
        const result = await run<Record<string, unknown>>(text, values);
        return { rows: result.rows, rowCount: result.rowCount };
      } finally {
        release();
      }
    },
    stats() {
      return { total: 1, idle: busy ? 0 : 1, waiting: waiters.length };
    },
  };
}

interface PgliteResult {
  rows: unknown[];
  affectedRows?: number;
  rowCount?: number;
  command?: string;
}

function toQueryResult<R>(result: PgliteResult | undefined): PostgresQueryResult<R> {
  if (!result) return { command: 'SELECT', rowCount: 0, rows: [] };
  return {
    command: (result.command ?? 'SELECT') as PostgresQueryResult<R>['command'],
    rowCount: result.affectedRows ?? result.rowCount ?? result.rows.length,
    rows: result.rows as R[],
  };
}
