import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * Runs parameterised statements as named prepared statements, named by a hash
 * of their text: each connection parses (and, once PostgreSQL settles on a
 * generic plan, plans) a statement once, and from then on only binds and
 * executes it. Statements without parameters (BEGIN, COMMIT) run as they are.
 * Over a pool, each of its connections prepares a statement on first use;
 * over one checked-out connection, so does that connection. Meant for a small
 * set of statement texts (the read model's shapes, the projector's writes).
 */
export class PreparedStatementClient {
  constructor(private readonly target: pg.Pool | pg.PoolClient) {}

  async query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }> {
    if (values === undefined) return this.target.query<R & pg.QueryResultRow>(text);
    return this.target.query<R & pg.QueryResultRow>({ name: statementName(text), text, values });
  }
}

/** A statement's name depends on its text alone: one cache for every client (the projector makes one per batch). */
const names = new Map<string, string>();

function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `q_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
    if (names.size >= 1000) names.clear();
    names.set(text, name);
  }
  return name;
}
