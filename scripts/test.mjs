// `npm test`: the whole suite (unit, integration, e2e) from a fresh clone. The
// harness starts its own PostgreSQL and nats-server, so nats-server must exist;
// the dashboard's e2e test drives a real chromium.
import { ensureChromium, ensureHaEngines, ensureNatsServer, ensureNpmPackages, ensureOrExit, handOver } from './ensure-deps.mjs';

ensureOrExit(() => {
  ensureNpmPackages();
  ensureNatsServer();
  ensureChromium();
  // The fault-injection tests run the replicated topology: Patroni, etcd and haproxy over Debian's PostgreSQL.
  ensureHaEngines();
});
handOver('npx', ['vitest', 'run', ...process.argv.slice(2)]);
