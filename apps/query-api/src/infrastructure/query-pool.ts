import pg from 'pg';
import { isConnectionLoss, survivesConnectionLoss } from '@app/database';
import type { QueryApiSettings } from './config.provider.js';

/** QUERY_STATEMENT_TIMEOUT_MS's default: p99 answers take well under 100 ms. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5000;

/**
 * The query API's connections. Like every pool of the system (createPool in
 * @app/database), plus two settings sent at connection start-up:
 *
 * - `plan_cache_mode = force_generic_plan`: the reader runs its statements
 *   prepared (PreparedStatementClient), and their tables are partitioned by
 *   merchant. PostgreSQL's default would keep re-planning them, because a
 *   generic plan's estimate counts every partition while execution prunes to
 *   the merchant's one at start-up; the generic plan costs a fifth of the
 *   planning for the short questions.
 * - `max_parallel_workers_per_gather = 0`: an answer is a few index range
 *   scans of at most some thousands of rows; starting parallel workers for
 *   them took 5–30 ms (EXPLAIN ANALYZE on bench:skew's largest merchant), more
 *   than the whole statement needs without them.
 * - `statement_timeout`: a runaway question (a decade of 15-minute rows, a
 *   lock held by a migration) is cancelled by the server, which frees its
 *   connection and its CPU, instead of holding both until the client gives up.
 *
 * Behind PgBouncer, which drops startup options, all three are lost: the answers
 * stay the same, only slower, and the timeout must then be set on the role
 * (`alter role … set statement_timeout`).
 */
export function createQueryPool(
  config: Pick<QueryApiSettings, 'databaseUrl' | 'databasePoolSize'> & Partial<Pick<QueryApiSettings, 'statementTimeoutMs'>>,
  applicationName = 'query-api',
): pg.Pool {
  const timeout = config.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const pool = new ReadRetryingPool({
    connectionString: config.databaseUrl,
    max: config.databasePoolSize,
    application_name: applicationName,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    options: `-c plan_cache_mode=force_generic_plan -c statement_timeout=${timeout} -c max_parallel_workers_per_gather=0`,
  });
  survivesConnectionLoss(pool);
  return pool;
}

/** How long a read is tried again after its connection was lost, in all. */
export const READ_RETRY_MS = 10_000;

/**
 * Every statement of the query API only reads, so one that failed because its
 * connection went away is sent again on another one, for READ_RETRY_MS at most
 * (backing off from 50 ms to 1 s): behind the read port, the load balancer
 * sends the new connection to the standby that is up, or to the primary. A
 * merchant sees a slower answer, not an error. Statement timeouts and every
 * other error are the caller's, at once.
 */
export class ReadRetryingPool extends pg.Pool {
  /** Reads sent again (query_api_read_retries_total reads it). */
  retries = 0;

  // pg's overloads (callbacks, submittables) are kept as they are; the promise form, which the app uses, is retried.
  override query(...args: unknown[]): never {
    const call = () => (super.query as (...a: unknown[]) => unknown).apply(this, args);
    if (typeof args[args.length - 1] === 'function' || typeof (args[0] as { submit?: unknown })?.submit === 'function') return call() as never;
    return this.retrying(call as () => Promise<unknown>) as never;
  }

  private async retrying(call: () => Promise<unknown>): Promise<unknown> {
    const deadline = Date.now() + READ_RETRY_MS;
    for (let delay = 50; ; delay = Math.min(1000, delay * 2)) {
      try {
        return await call();
      } catch (error) {
        if (!isConnectionLoss(error) || Date.now() + delay > deadline) throw error;
        this.retries++;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

/** True for the error of a statement cancelled by statement_timeout (SQLSTATE 57014, query_canceled). */
export function isStatementTimeout(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return e?.code === '57014' && typeof e.message === 'string' && e.message.includes('statement timeout');
}
