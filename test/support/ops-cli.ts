import { spawn, type ChildProcess } from 'node:child_process';
import { builtEntry, repoRoot } from '../../scripts/build.mjs';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  result: Promise<CliResult>;
}

/**
 * The real ops CLI in a child process (node itself, no wrapper, so a SIGKILL hits the CLI), compiled
 * as `npm run ops` runs it (the global setup built dist/).
 */
export function startOps(args: string[], env: Record<string, string | undefined>): RunningCli {
  const child = spawn(process.execPath, ['--enable-source-maps', builtEntry('apps/ops/src/main.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, result };
}

/** Runs the ops CLI to completion. */
export function ops(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return startOps(args, env).result;
}
