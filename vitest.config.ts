import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const libs = fileURLToPath(new URL('./libs/', import.meta.url));
const plugins = [swc.vite({ module: { type: 'es6' } })];
const resolve = { alias: [{ find: /^@app\/([^/]+)$/, replacement: `${libs}$1/src/index.ts` }] };

export default defineConfig({
  plugins,
  resolve,
  test: {
    globalSetup: ['test/global-setup.ts'],
    projects: [
      { plugins, resolve, test: { name: 'unit', include: ['{apps,libs}/**/*.spec.ts'] } },
      { plugins, resolve, test: { name: 'integration', include: ['{apps,libs}/**/*.int-spec.ts'], testTimeout: 60_000, hookTimeout: 60_000 } },
      { plugins, resolve, test: { name: 'e2e', include: ['test/**/*.e2e-spec.ts'], testTimeout: 120_000, hookTimeout: 120_000 } },
    ],
  },
});
