// What `npm start` and `npm test` need before any TypeScript can run: the npm
// packages, a nats-server binary and, for `npm test`, chromium (the dashboard's
// browser test). Plain JavaScript with no npm dependencies, because it runs on
// a fresh clone before `npm install`.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Thrown with a message meant for the user; callers print it and exit non-zero. */
export class EnsureError extends Error {}

function run(command, args, options = {}) {
  console.error(`> ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, {
    cwd: repoRoot,
    // No stdin: CI runs without one, and nothing here should ever prompt.
    stdio: ['ignore', 'inherit', 'inherit'],
    shell: process.platform === 'win32',
    ...options,
  });
  if (result.error) throw new EnsureError(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) throw new EnsureError(`\`${[command, ...args].join(' ')}\` failed with exit code ${result.status ?? result.signal}`);
}

/**
 * npm keeps a copy of the lockfile it installed from in node_modules; when the
 * real lockfile is newer (a pull, a branch switch), the tree may be stale.
 */
export function ensureNpmPackages() {
  const lock = join(repoRoot, 'package-lock.json');
  const installed = join(repoRoot, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(lock).mtimeMs <= statSync(installed).mtimeMs) return;
  console.error(existsSync(installed) ? 'package-lock.json changed: reinstalling npm packages' : 'installing npm packages');
  try {
    run('npm', ['ci', '--no-audit', '--no-fund']);
  } catch (error) {
    if (!(error instanceof EnsureError)) throw error;
    // npm ci also insists on lock entries for other platforms' optional binaries
    // (@swc/core-darwin-arm64, …); a registry mirror that lacks them makes it
    // refuse a lockfile that npm install accepts and installs exactly.
    console.error('npm ci refused; installing from package-lock.json with npm install instead');
    run('npm', ['install', '--no-audit', '--no-fund']);
  }
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The first executable called `name` on PATH, or in the sbin directories Debian installs daemons into. */
export function findExecutable(name) {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/local/sbin', '/usr/sbin', '/sbin']) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Installs Debian packages as root, or through sudo; `what` names them in the messages. */
function aptInstall(packages, what) {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot && !findExecutable('sudo')) {
    throw new EnsureError(`${what} is missing; install it as root with: apt-get update && apt-get install -y ${packages.join(' ')}`);
  }
  const prefix = isRoot ? [] : ['sudo'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [command, ...rest] = [...prefix, 'apt-get'];
  run(command, [...rest, 'update'], { env });
  run(command, [...rest, 'install', '-y', ...packages], { env });
}

const NATS_HELP = [
  'nats-server (2.9 or later, with JetStream) is needed but was not found, and apt-get is not available to install it.',
  'Install it yourself, then run the command again:',
  '  macOS:  brew install nats-server',
  '  other:  install a nats-server release from the NATS project and put it on PATH',
  'or set NATS_SERVER_BIN to its path. For `npm start` you may instead set NATS_URL to a running nats-server started with -js.',
].join('\n');

/**
 * Finds nats-server, installing Debian's package when it is missing. Exports
 * NATS_SERVER_BIN so child processes (the test harness, the local stack) use
 * the same binary even when it lives outside PATH (/usr/sbin for non-root users).
 */
export function ensureNatsServer() {
  const configured = process.env.NATS_SERVER_BIN;
  if (configured) {
    if (!isExecutable(configured)) throw new EnsureError(`NATS_SERVER_BIN is set to "${configured}", which is not an executable file`);
    return configured;
  }
  let found = findExecutable('nats-server');
  if (!found) {
    if (!findExecutable('apt-get')) throw new EnsureError(NATS_HELP);
    console.error('nats-server not found: installing it from Debian packages');
    aptInstall(['nats-server'], 'nats-server');
    found = findExecutable('nats-server');
    if (!found) throw new EnsureError('apt-get installed nats-server, but no nats-server executable could be found afterwards');
  }
  process.env.NATS_SERVER_BIN = found;
  return found;
}

const CHROMIUM_HELP = [
  'chromium is needed for the dashboard\'s browser test but was not found, and apt-get is not available to install it.',
  'Install Chromium or Google Chrome, then run the command again with CHROMIUM_BIN set to its executable.',
].join('\n');

/**
 * Finds chromium for the dashboard's e2e test (puppeteer-core drives it; it
 * downloads no browser of its own), installing Debian's package when it is
 * missing, as nats-server is. Exports CHROMIUM_BIN for the test.
 */
export function ensureChromium() {
  const configured = process.env.CHROMIUM_BIN;
  if (configured) {
    if (!isExecutable(configured)) throw new EnsureError(`CHROMIUM_BIN is set to "${configured}", which is not an executable file`);
    return configured;
  }
  let found = findExecutable('chromium');
  if (!found) {
    if (!findExecutable('apt-get')) throw new EnsureError(CHROMIUM_HELP);
    console.error('chromium not found: installing it from Debian packages (for the dashboard\'s browser test)');
    aptInstall(['chromium'], 'chromium');
    found = findExecutable('chromium');
    if (!found) throw new EnsureError('apt-get installed chromium, but no chromium executable could be found afterwards');
  }
  process.env.CHROMIUM_BIN = found;
  return found;
}

/**
 * Spawns a command that owns the terminal for the rest of this process's life
 * and exits with its code. Signals sent to this process alone (kill PID) are
 * passed on; the child treats a repeated signal (a terminal's Ctrl-C reaches
 * the whole process group) as the same request.
 */
export function handOver(command, args) {
  const child = spawn(command, args, { cwd: repoRoot, stdio: 'inherit', shell: process.platform === 'win32' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  // `kill <npm's pid>` makes npm exit without passing the signal on; an orphaned
  // stack would keep running unseen. Losing the parent counts as a SIGTERM.
  const parent = process.ppid;
  const orphanCheck = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(orphanCheck);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }, 500);
  orphanCheck.unref();
  child.on('error', (error) => {
    console.error(`could not run ${command}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

/** Runs fn and turns an EnsureError into one message and exit code 1. */
export function ensureOrExit(fn) {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof EnsureError)) throw error;
    console.error(`\n${error.message}`);
    process.exit(1);
  }
}

const HA_HELP = [
  'The replicated topology needs Debian\'s postgresql-15 (with pg_basebackup and pg_rewind), patroni, etcd-server and haproxy,',
  'and apt-get is not available to install them. Install them yourself (PostgreSQL 15 or later, Patroni 3, etcd 3.4 or later,',
  'haproxy 2.2 or later), then run the command again; PG_BIN_DIR may name PostgreSQL\'s bin directory.',
].join('\n');

/** The newest /usr/lib/postgresql/N/bin that has pg_basebackup (Patroni clones standbys with it), or PG_BIN_DIR. */
function postgresServerBin() {
  if (process.env.PG_BIN_DIR) return isExecutable(join(process.env.PG_BIN_DIR, 'pg_basebackup')) ? process.env.PG_BIN_DIR : undefined;
  for (const version of [18, 17, 16, 15]) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (isExecutable(join(dir, 'postgres')) && isExecutable(join(dir, 'pg_basebackup'))) return dir;
  }
  return undefined;
}

/**
 * What the replicated topology (`npm run start:ha`, the fault-injection tests) runs on: Debian's
 * PostgreSQL server, Patroni, etcd and haproxy, installed when one is missing. Returns the
 * PostgreSQL server's bin directory.
 */
export function ensureHaEngines() {
  const missing = () => [
    ...(postgresServerBin() ? [] : ['postgresql-15']),
    ...(findExecutable('patroni') ? [] : ['patroni']),
    ...(findExecutable('etcd') ? [] : ['etcd-server']),
    ...(findExecutable('haproxy') ? [] : ['haproxy']),
  ];
  const packages = missing();
  if (packages.length === 0) return postgresServerBin();
  if (!findExecutable('apt-get')) throw new EnsureError(HA_HELP);
  console.error(`${packages.join(', ')} not found: installing from Debian packages (the replicated topology)`);
  aptInstall(packages, packages.join(', '));
  const still = missing();
  if (still.length) throw new EnsureError(`apt-get installed ${packages.join(' ')}, but ${still.join(', ')} still cannot be found`);
  return postgresServerBin();
}
