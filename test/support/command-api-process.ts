import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually, freePort } from '@app/testing';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The command API as a real OS process (so tests can SIGKILL or SIGTERM it). */
export class CommandApiProcess {
  private child?: ChildProcess;
  output = '';
  exit?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly port: number, private readonly env: Record<string, string>) {}

  static async start(env: Record<string, string>): Promise<CommandApiProcess> {
    const api = new CommandApiProcess(await freePort(), env);
    await api.start();
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'apps/command-api/src/main.ts'], {
      cwd: root,
      env: { ...process.env, ...this.env, COMMAND_API_PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const capture = (chunk: Buffer) => { this.output = (this.output + chunk.toString()).slice(-20_000); };
    child.stdout?.on('data', capture);
    child.stderr?.on('data', capture);
    this.child = child;
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`command API exited early:\n${this.output}`);
      const res = await fetch(`${this.url}/health/ready`);
      if (res.status !== 200) throw new Error(`not ready: ${res.status}`);
    }, 30_000, 100);
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exit;
    }
  }
}
