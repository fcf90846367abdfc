import pg from 'pg';

/**
 * Samples what the command API's PostgreSQL backends are doing, from
 * pg_stat_activity, at a fixed interval: running on CPU, waiting on a lock
 * (e.g. another transaction's partition_heads row), on WAL I/O, or idle in a
 * transaction (waiting for the API to send the next statement). A cheap
 * substitute for pg_stat_statements / wait-event profiling.
 */
export class WaitSampler {
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly samples = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private busy = false;

  private constructor(private readonly client: pg.Client, private readonly intervalMs: number) {}

  static async start(url: string, intervalMs: number): Promise<WaitSampler> {
    const client = new pg.Client({ connectionString: url, application_name: 'bench-waits' });
    await client.connect();
    const sampler = new WaitSampler(client, intervalMs);
    return sampler;
  }

  begin(): void {
    this.counts.clear();
    this.samples.clear();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  end(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    this.end();
    await this.client.end().catch(() => undefined);
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const { rows } = await this.client.query<{ app: string; state: string | null; wait: string | null; query: string }>({
        name: 'bench-waits',
        text: `select application_name as app, state, wait_event_type || ':' || wait_event as wait, left(query, 80) as query
               from pg_stat_activity
               where application_name in ('command-api', 'command-api-relay', 'bench-copy') and backend_type = 'client backend'`,
      });
      for (const row of rows) {
        const key = classify(row.state, row.wait, row.query);
        let perApp = this.counts.get(row.app);
        if (!perApp) this.counts.set(row.app, (perApp = new Map()));
        perApp.set(key, (perApp.get(key) ?? 0) + 1);
        this.samples.set(row.app, (this.samples.get(row.app) ?? 0) + 1);
      }
    } catch {
      // A missed sample is fine.
    } finally {
      this.busy = false;
    }
  }

  /** Share of backend-samples per state, for one application_name, largest first. */
  summary(app: string): Array<[string, number]> {
    const perApp = this.counts.get(app);
    const total = this.samples.get(app) ?? 0;
    if (!perApp || total === 0) return [];
    return [...perApp.entries()].map(([k, n]) => [k, n / total] as [string, number]).sort((a, b) => b[1] - a[1]);
  }
}

function classify(state: string | null, wait: string | null, query: string): string {
  if (state === 'idle') return 'idle';
  const statement = statementName(query);
  // Idle in a transaction: waiting for the API to send the next statement; the
  // statement named is the one that last ran.
  if (state === 'idle in transaction') return `idle in tx after ${statement}`;
  if (wait === null) return `CPU ${statement}`;
  return `${wait} ${statement}`;
}

/** Which statement of the append (or the relay) a backend is running. */
function statementName(query: string): string {
  const q = query.replace(/\s+/g, ' ').trim().toLowerCase();
  const fn = /^select event_store\.([a-z_]+)\(/.exec(q);
  if (fn) return `[${fn[1]}]`;
  if (q.startsWith('insert into event_store.event_ids')) return '[claim ids]';
  if (q.startsWith('select partition from event_store.partition_heads')) return '[lock heads]';
  if (q.startsWith('update event_store.partition_heads')) return '[advance heads]';
  if (q.startsWith('insert into event_store.events')) return '[insert events]';
  if (q.startsWith('commit')) return '[commit]';
  if (q.startsWith('copy ')) return '[copy]';
  if (q.startsWith('begin')) return '[begin]';
  if (q.startsWith('select published from event_store.publication_heads')) return '[relay claim]';
  if (q.startsWith('select position')) return '[relay read]';
  if (q.startsWith('update event_store.publication_heads')) return '[relay advance]';
  return `[${q.slice(0, 24)}]`;
}
