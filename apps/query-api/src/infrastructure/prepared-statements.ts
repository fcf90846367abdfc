import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { SqlClient } from '@app/merchant-metrics';

/**
 * A SqlClient over a pg.Pool that runs every statement as a named prepared
 * statement, named by a hash of its text: each connection parses (and, with
 * plan_cache_mode = force_generic_plan, plans) a statement once, and from then
 * on only binds and executes it. The reader's statements come from a small set
 * of shapes (source table, groupBy, spans), so each connection holds a few
 * dozen at most.
 */
export class PreparedStatementClient implements SqlClient {
  private readonly names = new Map<string, string>();

  constructor(private readonly pool: pg.Pool) {}

  async query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }> {
    let name = this.names.get(text);
    if (name === undefined) {
      name = `q_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
      if (this.names.size >= 1000) this.names.clear();
      this.names.set(text, name);
    }
    return this.pool.query<R & pg.QueryResultRow>({ name, text, values });
  }
}
