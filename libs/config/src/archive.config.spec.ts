import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readArchiveDir } from './archive.config.js';
import { ConfigError } from './env.js';

describe('readArchiveDir', () => {
  it('takes ARCHIVE_DIR, made absolute against the working directory', () => {
    expect(readArchiveDir({ ARCHIVE_DIR: '/srv/archive' })).toBe('/srv/archive');
    expect(readArchiveDir({ ARCHIVE_DIR: 'cold/archive' })).toBe(resolve(process.cwd(), 'cold/archive'));
  });

  it('fails with the variable\'s name when it is unset or blank', () => {
    for (const env of [{}, { ARCHIVE_DIR: '' }, { ARCHIVE_DIR: '  ' }]) {
      expect(() => readArchiveDir(env)).toThrow(ConfigError);
      expect(() => readArchiveDir(env)).toThrow('ARCHIVE_DIR is required but not set');
    }
  });
});
