import { spawn, type ChildProcess } from 'node:child_process';
import { builtEntry, ensureBuilt } from '../../scripts/build.mjs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@app/ha';
// Not @app/testing: its index needs vitest, and bench:failover runs this outside it.
import { eventually } from '../../libs/testing/src/eventually.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Where an app's entry point is and which variables set its HTTP port and its admin port (/metrics), and its gRPC port if it has one. */
export interface AppDefinition {
  name: string;
  entry: string;
  portVariable: string;
  adminPortVariable: string;
  grpcPortVariable?: string;
}

export const COMMAND_API: AppDefinition = {
  name: 'command API', entry: 'apps/command-api/src/main.ts', portVariable: 'COMMAND_API_PORT', adminPortVariable: 'COMMAND_API_ADMIN_PORT',
  grpcPortVariable: 'COMMAND_API_GRPC_PORT',
};
export const PROJECTOR: AppDefinition = {
  name: 'projector', entry: 'apps/projector/src/main.ts', portVariable: 'PROJECTOR_PORT', adminPortVariable: 'PROJECTOR_ADMIN_PORT',
};
export const QUERY_API: AppDefinition = {
  name: 'query API', entry: 'apps/query-api/src/main.ts', portVariable: 'QUERY_API_PORT', adminPortVariable: 'QUERY_API_ADMIN_PORT',
};

/** An app as a real OS process (so tests can SIGKILL or SIGTERM it), ready once /health/ready answers 200. */
export class AppProcess {
  private child?: ChildProcess;
  output = '';
  exit?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly app: AppDefinition,
    readonly port: number,
    readonly adminPort: number,
    private readonly env: Record<string, string>,
    /** A free port of its own, so that apps started side by side never meet on the default. */
    readonly grpcPort?: number,
    /** Another tree's root whose dist/ holds the app (a previous release, built by its own scripts/build.mjs). */
    private readonly from?: string,
  ) {}

  /**
   * Starts the app; with `waitReady: false`, returns as soon as the process is spawned. `port` is
   * its HTTP port when something (a load balancer) must know it beforehand; a free one otherwise.
   * `root`: run the app compiled in that tree's dist/ instead of this one's.
   */
  static async start(app: AppDefinition, env: Record<string, string>, options: { waitReady?: boolean; port?: number; root?: string } = {}): Promise<AppProcess> {
    const process = new AppProcess(app, options.port ?? (await freePort()), await freePort(), env, app.grpcPortVariable ? await freePort() : undefined, options.root);
    await process.start(options);
    return process;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The admin port: /metrics and /health/details. */
  get adminUrl(): string {
    return `http://127.0.0.1:${this.adminPort}`;
  }

  async start(options: { waitReady?: boolean } = {}): Promise<void> {
    // The compiled app, as npm start and the image run it (scripts/build.mjs; the global setup built it already).
    // Another tree is built by its own build script beforehand; builtEntry's mapping, from that tree's dist/.
    if (!this.from) await ensureBuilt();
    const entry = this.from ? join(this.from, 'dist', this.app.entry.replace(/\.ts$/, '.js')) : builtEntry(this.app.entry);
    const child = spawn(process.execPath, ['--enable-source-maps', entry], {
      cwd: this.from ?? root,
      env: {
        ...process.env, ...this.env, [this.app.portVariable]: String(this.port), [this.app.adminPortVariable]: String(this.adminPort), HOST: '127.0.0.1',
        ...(this.app.grpcPortVariable ? { [this.app.grpcPortVariable]: String(this.grpcPort) } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const capture = (chunk: Buffer) => { this.output = (this.output + chunk.toString()).slice(-20_000); };
    child.stdout?.on('data', capture);
    child.stderr?.on('data', capture);
    this.child = child;
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    if (options.waitReady === false) return;
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`${this.app.name} exited early:\n${this.output}`);
      const res = await fetch(`${this.url}/health/ready`);
      if (res.status !== 200) throw new Error(`not ready: ${res.status}`);
    }, 30_000, 100);
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exit;
    }
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exit;
    }
  }
}
