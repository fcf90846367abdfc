// `npm start`: installs what is missing, then runs the local stack (scripts/local-stack.ts).
import { ensureNatsServer, ensureNpmPackages, ensureOrExit, handOver } from './ensure-deps.mjs';

ensureOrExit(() => {
  ensureNpmPackages();
  // With NATS_URL set the stack uses that server and never starts its own.
  if (!process.env.NATS_URL) ensureNatsServer();
});
handOver(process.execPath, ['scripts/run-ts.mjs', 'scripts/local-stack.ts', ...process.argv.slice(2)]);
