/** What one readiness check found: whether the app may take traffic, and what operators may read about it. */
export interface ReadinessResult<D> {
  ready: boolean;
  details: D;
}

/** The last check's outcome; `error` says why a check failed (it threw, or did not answer in time). */
export interface ReadinessState<D> {
  ready: boolean;
  details?: D;
  error?: string;
}

export interface ReadinessProbeOptions {
  intervalMs: number;
  timeoutMs: number;
}

/**
 * Readiness checked in the background, so that /health/ready costs no
 * database round trip however often load balancers ask: `check` runs every
 * `intervalMs`, and the endpoint answers the last outcome. A check that has
 * not answered after `timeoutMs` counts as failed; no second check starts
 * while one is still out, so a hung database holds one connection, not one
 * per round. Not ready until the first check passes.
 */
export class ReadinessProbe<D> {
  private state: ReadinessState<D> = { ready: false, error: 'not checked yet' };
  private inFlight?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private stopped = false;
  /** Checks started so far. */
  checks = 0;

  constructor(
    private readonly check: () => Promise<ReadinessResult<D>>,
    private readonly options: ReadinessProbeOptions,
  ) {}

  get ready(): boolean {
    return this.state.ready;
  }

  get last(): ReadinessState<D> {
    return this.state;
  }

  /** Runs the first check (so that a healthy app is ready as soon as it listens), then keeps checking. */
  async start(): Promise<void> {
    await this.runRound();
    this.schedule();
  }

  /** Stops checking; waits for a check under way at most `timeoutMs`. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.round = this.runRound().finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async runRound(): Promise<void> {
    const inFlight = (this.inFlight ??= this.runCheck());
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.options.timeoutMs);
    });
    const late = await Promise.race([inFlight.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) this.state = { ready: false, error: `no answer within ${this.options.timeoutMs} ms` };
  }

  private runCheck(): Promise<void> {
    this.checks++;
    return Promise.resolve()
      .then(() => this.check())
      .then(
        ({ ready, details }) => {
          this.state = { ready, details };
        },
        (error: unknown) => {
          this.state = { ready: false, error: error instanceof Error ? error.message : String(error) };
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
  }
}
