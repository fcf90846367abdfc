// `npm test`: the whole suite (unit, integration, e2e) from a fresh clone. The
// harness starts its own PostgreSQL and nats-server, so nats-server must exist;
// the dashboard's e2e test drives a real chromium; the fault tests run the
// replicated topology (Patroni, etcd, haproxy over Debian's PostgreSQL 15).
//
// With no arguments, a second pass runs the libraries' integration specs (the
// SQL: event store, projections, read models, archive) on Debian's PostgreSQL,
// which the replicated topology runs on, beside the embedded PostgreSQL 18 of
// the first. With arguments, only what they name runs, once, on the embedded one.
import { spawnSync } from 'node:child_process';
import { ensureChromium, ensureHaEngines, ensureNatsServer, ensureNpmPackages, ensureOrExit, handOver, repoRoot } from './ensure-deps.mjs';

const pg15 = ensureOrExit(() => {
  ensureNpmPackages();
  ensureNatsServer();
  ensureChromium();
  return ensureHaEngines();
});
const args = process.argv.slice(2);
if (args.length > 0 || process.env.DATABASE_URL || !pg15) handOver('npx', ['vitest', 'run', ...args]);
else {
  const first = spawnSync('npx', ['vitest', 'run'], { cwd: repoRoot, stdio: 'inherit' });
  if (first.status !== 0) process.exit(first.status ?? 1);
  console.error(`\nthe libraries' SQL suites again, on ${pg15} (the replicated topology's PostgreSQL)`);
  process.env.TEST_PG_BIN_DIR = pg15;
  // time-buckets' oracle is PostgreSQL's date_add(timestamptz, interval, zone), which 16 added; it checks
  // the TypeScript calendar, not SQL of ours (nothing of the system calls date_add).
  handOver('npx', ['vitest', 'run', '--project', 'integration', '--exclude', '**/time-buckets.int-spec.ts', 'libs/']);
}
