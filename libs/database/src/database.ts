import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export interface PoolOptions {
  connectionString: string;
  max?: number;
  applicationName?: string;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 8,
    application_name: options.applicationName ?? 'payments',
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  survivesConnectionLoss(pool);
  return pool;
}

/**
 * A connection lost (a database restart, a failover, a load balancer cutting
 * a server's sessions) must not end the process. pg reports it as an 'error'
 * event: the pool's for an idle client, but a checked-out one's own — and a
 * client held between two statements (the relay's, awaiting NATS) has no
 * listener then, so the event would be unhandled. Every client gets one: the
 * loss still shows, as the next statement's failure, and the pool drops the
 * broken client when it is released.
 */
export function survivesConnectionLoss(pool: pg.Pool): void {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
}

/**
 * SQLSTATEs after which the same statement may simply be sent again: the
 * connection's classes (08), the server shutting down or starting (57P01–03),
 * and a standby cancelling a read that conflicts with replay (40001).
 */
const RETRIABLE = /^(08...|57P0[123]|40001)$/;

/**
 * True for an error that says nothing about the statement, only about the
 * connection it went through: a standby killed, a primary failed over, a
 * load balancer cutting the sessions of a server it marked down. pg's own
 * errors for these have no SQLSTATE (connection refused, terminated, timeout).
 */
export function isConnectionLoss(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && RETRIABLE.test(code)) return true;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return false;
  return error instanceof Error && /connect|terminat|timeout expired|ECONN|EPIPE|socket/i.test(`${error.message} ${String(code ?? '')}`);
}

/** One connection for `fn`, closed afterwards whatever `fn` does. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  // A connection lost while idle shows as the next query's failure, not as an unhandled 'error' event that ends the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function createKysely(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
