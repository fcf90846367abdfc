import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { repositoryRoot } from './repository-root.js';

describe('repositoryRoot', () => {
  const root = mkdtempSync(join(tmpdir(), 'repository-root-'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'some-repo' }));
  mkdirSync(join(root, 'apps/ops/src'), { recursive: true });
  mkdirSync(join(root, 'dist/apps/ops/src'), { recursive: true });
  writeFileSync(join(root, 'dist/package.json'), JSON.stringify({ type: 'module' }));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is the same directory for a source module and its compiled copy under dist/', () => {
    expect(repositoryRoot(pathToFileURL(join(root, 'apps/ops/src/database.ts')).href)).toBe(root);
    expect(repositoryRoot(pathToFileURL(join(root, 'dist/apps/ops/src/database.js')).href)).toBe(root);
  });

  it('is this repository for this module', () => {
    expect(repositoryRoot(import.meta.url)).toBe(join(import.meta.dirname, '../../..'));
  });
});
