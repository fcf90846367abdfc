import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtEntry } from '../build.mjs';
import { repoRoot } from './data-dir.js';
import { ManagedProcess, type Exit } from './managed-process.js';

export interface AppSpec {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Runs an app compiled (scripts/build.mjs: the caller builds first), its output prefixed with its
 * name; its logs in LOG_FORMAT=pretty, one line a person reads, unless the user chose a format.
 */
export function startApp(spec: AppSpec): ManagedProcess {
  if (!existsSync(join(repoRoot, spec.entry))) throw new Error(`${spec.name}: ${spec.entry} does not exist`);
  const entry = builtEntry(spec.entry);
  if (!existsSync(entry)) throw new Error(`${spec.name}: ${entry} is not built (node scripts/build.mjs)`);
  return new ManagedProcess(spec.name, process.execPath, {
    args: ['--enable-source-maps', entry],
    cwd: repoRoot,
    env: { ...spec.env, LOG_FORMAT: spec.env.LOG_FORMAT || 'pretty' },
    output: { prefix: true },
    // The apps drain in-flight requests on SIGTERM; allow for a slow drain.
    stopSignal: 'SIGTERM',
    stopTimeoutMs: 30_000,
  });
}

/** Polls the app's readiness endpoint; fails as soon as the app exits. */
export async function waitUntilReady(app: ManagedProcess, readyUrl: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: Exit | undefined;
  void app.exited.then((e) => (exit = e));
  for (;;) {
    if (exit) throw new Error(`${app.name} exited before it was ready (${describeExit(exit)}); see its output above`);
    try {
      const response = await fetch(readyUrl, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${app.name} was not ready at ${readyUrl} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function describeExit(exit: Exit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}
