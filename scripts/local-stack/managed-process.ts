import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedOptions {
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Either prefix every output line with the name on our own stdout, or append it to a log file. */
  output: { prefix: true } | { logFile: string };
  /** The signal that asks this program for a clean shutdown. */
  stopSignal: NodeJS.Signals;
  stopTimeoutMs: number;
}

/**
 * A child process the local stack owns. It runs in its own process group
 * (detached), so a Ctrl-C in the terminal reaches only the stack itself, which
 * then stops the children one by one in a safe order instead of all at once.
 */
export class ManagedProcess {
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private stopping = false;
  private readonly recent: string[] = [];

  constructor(readonly name: string, command: string, private readonly options: ManagedOptions) {
    const spawnOptions: SpawnOptions = {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    };
    if (options.uid !== undefined) spawnOptions.uid = options.uid;
    if (options.gid !== undefined) spawnOptions.gid = options.gid;
    this.child = spawn(command, options.args, spawnOptions);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        console.error(`[${name}] could not start ${command}: ${error.message}`);
        resolve({ code: 127, signal: null });
      });
      // 'close' rather than 'exit': by then all of its output has been read.
      this.child.once('close', (code, signal) => resolve({ code, signal }));
    });
    this.pipeOutput();
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /** True once stop() was called: an exit after that is expected, not a failure. */
  get stopRequested(): boolean {
    return this.stopping;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.running) return;
    this.child.kill(this.options.stopSignal);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, this.options.stopTimeoutMs, 'timeout').unref());
    if ((await Promise.race([this.exited, timeout])) === 'timeout') {
      console.error(`${this.name} did not stop within ${this.options.stopTimeoutMs / 1000} s: killing it`);
      this.killGroup('SIGKILL');
      await this.exited;
    }
  }

  /** The last lines it wrote to its log file (empty when its output goes to our stdout), for error messages. */
  recentOutput(): string {
    return this.recent.map((line) => `  ${line}`).join('\n');
  }

  /** Last resort while this process itself exits: synchronous, no waiting. */
  signalIfRunning(): void {
    if (this.running) this.child.kill(this.options.stopSignal);
  }

  private killGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      this.child.kill(signal);
    }
  }

  private pipeOutput(): void {
    const output = this.options.output;
    const log = 'logFile' in output ? createWriteStream(output.logFile, { flags: 'a' }) : undefined;
    for (const [stream, target] of [[this.child.stdout, process.stdout], [this.child.stderr, process.stderr]] as const) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        if (!log) {
          target.write(`[${this.name}] ${line}\n`);
          return;
        }
        // Output that goes to a file is kept in memory too, to quote when the process fails.
        log.write(`${line}\n`);
        this.recent.push(line);
        if (this.recent.length > 15) this.recent.shift();
      });
    }
  }
}
