// `npm test`: the whole suite (unit, integration, e2e) from a fresh clone. The
// harness starts its own PostgreSQL and nats-server, so nats-server must exist.
import { ensureNatsServer, ensureNpmPackages, ensureOrExit, handOver } from './ensure-deps.mjs';

ensureOrExit(() => {
  ensureNpmPackages();
  ensureNatsServer();
});
handOver('npx', ['vitest', 'run', ...process.argv.slice(2)]);
