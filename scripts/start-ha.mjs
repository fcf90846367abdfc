// `npm run start:ha`: installs what is missing (npm packages, nats-server, and Debian's
// postgresql-15, patroni, etcd-server and haproxy), then runs the replicated topology (scripts/ha-stack.ts).
import { ensureHaEngines, ensureNatsServer, ensureNpmPackages, ensureOrExit, handOver } from './ensure-deps.mjs';

ensureOrExit(() => {
  ensureNpmPackages();
  ensureNatsServer();
  ensureHaEngines();
});
handOver(process.execPath, ['scripts/run-ts.mjs', 'scripts/ha-stack.ts', ...process.argv.slice(2)]);
