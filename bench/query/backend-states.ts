import pg from 'pg';

/**
 * Samples what the PostgreSQL backends of one application are doing, from
 * pg_stat_activity: running (on CPU or runnable), waiting on something
 * (lock, LWLock, I/O, client write), or idle (waiting for the next statement
 * from the application). The average number of backends in each state says
 * whether the database or its client is the queue.
 */
export class BackendStates {
  private readonly counts = new Map<string, number>();
  private samples = 0;
  private timer?: NodeJS.Timeout;
  private busy = false;

  private constructor(private readonly client: pg.Client, private readonly application: string) {}

  static async connect(url: string, application: string): Promise<BackendStates> {
    const client = new pg.Client({ connectionString: url, application_name: 'bench-states' });
    await client.connect();
    return new BackendStates(client, application);
  }

  begin(intervalMs = 20): void {
    this.counts.clear();
    this.samples = 0;
    this.timer = setInterval(() => void this.sample(), intervalMs);
  }

  end(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    this.end();
    await this.client.end().catch(() => undefined);
  }

  /** Average backends per state over the samples, busiest first. */
  summary(): string {
    if (this.samples === 0) return 'no samples';
    return [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .map(([state, n]) => `${state} ${(n / this.samples).toFixed(1)}`)
      .join(', ');
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const { rows } = await this.client.query<{ state: string | null; wait: string | null }>({
        name: 'bench-states',
        text: `select state, wait_event_type || ':' || wait_event as wait from pg_stat_activity
               where application_name = $1 and backend_type = 'client backend'`,
        values: [this.application],
      });
      for (const { state, wait } of rows) {
        const key = state === 'active' ? (wait ? `waiting ${wait}` : 'running') : (state ?? 'unknown');
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      }
      this.samples++;
    } catch {
      // A missed sample is fine.
    } finally {
      this.busy = false;
    }
  }
}
