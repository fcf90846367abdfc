import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** A daemon run as a child process: its recent output is kept for error messages. */
export class Daemon {
  private child?: ChildProcess;
  private output = '';
  private exited?: Promise<void>;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly options: SpawnOptions = {},
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** The last few kilobytes the daemon wrote. */
  recentOutput(): string {
    return this.output.trim();
  }

  start(): void {
    if (this.running) return;
    const child = spawn(this.command, this.args, { ...this.options, stdio: ['ignore', 'pipe', 'pipe'] });
    const capture = (chunk: Buffer) => { this.output = (this.output + chunk.toString()).slice(-8000); };
    child.stdout?.on('data', capture);
    child.stderr?.on('data', capture);
    child.once('error', (error) => capture(Buffer.from(`\n${this.command}: ${error.message}\n`)));
    // 'exit', not 'close': a daemon's own children (PostgreSQL under Patroni) may hold its output pipes open.
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
  }

  /** Sends `signal` and waits until the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.child) return;
    if (this.running) this.child.kill(signal);
    await this.exited;
    this.child = undefined;
  }

  /** Throws with the daemon's output if it has exited. */
  assertRunning(): void {
    if (this.child && !this.running) throw new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}):\n${this.recentOutput()}`);
  }
}

/** Calls `check` until it resolves, or throws its last error after `timeoutMs`. */
export async function until<T>(check: () => Promise<T>, timeoutMs: number, what: string, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms: ${last instanceof Error ? last.message : String(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
