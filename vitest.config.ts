import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const libs = fileURLToPath(new URL('./libs/', import.meta.url));
const plugins = [swc.vite({ module: { type: 'es6' } })];
const resolve = { alias: [{ find: /^@app\/([^/]+)$/, replacement: `${libs}$1/src/index.ts` }] };

/** Unit and integration specs form the first group; the e2e specs run after it. */
const firstGroup = { sequence: { groupOrder: 0 } };

export default defineConfig({
  plugins,
  resolve,
  test: {
    maxWorkers: 2,
    minWorkers: 1,
    globalSetup: ['test/global-setup.ts'],
    // Unit and integration specs first, two files at a time (an integration spec mostly waits on
    // PostgreSQL, so two overlap well on two cores); then the e2e specs one at a time, since each runs
    // several processes of its own and some time their health checks.
    projects: [
      { plugins, resolve, test: { name: 'unit', include: ['{apps,libs}/**/*.spec.ts'], ...firstGroup } },
      { plugins, resolve, test: { name: 'integration', include: ['{apps,libs}/**/*.int-spec.ts'], testTimeout: 60_000, hookTimeout: 60_000, ...firstGroup } },
      { plugins, resolve, test: { name: 'e2e', include: ['test/**/*.e2e-spec.ts'], testTimeout: 120_000, hookTimeout: 120_000, poolOptions: { forks: { singleFork: true } }, sequence: { groupOrder: 1 } } },
    ],
  },
});
