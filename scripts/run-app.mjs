// Runs one of the apps compiled (scripts/build.mjs builds dist/ first when a source is newer):
// `node scripts/run-app.mjs apps/ops/src/main.ts args…`. Signals pass through to it, its exit code is ours.
import { spawn } from 'node:child_process';
import { builtEntry, ensureBuilt, repoRoot } from './build.mjs';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-app.mjs <apps/…/main.ts> [args…]');
  process.exit(2);
}
await ensureBuilt();
const child = spawn(process.execPath, ['--enable-source-maps', builtEntry(entry), ...args], { cwd: repoRoot, stdio: 'inherit', env: process.env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
