import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from './env.js';

type Env = Record<string, string | undefined>;

/**
 * The cold archive's directory, ARCHIVE_DIR (README, "Cold archive"), made
 * absolute against the working directory, so that a message naming it, or a
 * manifest's files under it, mean the same wherever they are read.
 */
export function readArchiveDir(env: Env = process.env): string {
  const value = env.ARCHIVE_DIR;
  if (value === undefined || value.trim() === '') {
    throw new ConfigError('ARCHIVE_DIR is required but not set: the directory of the cold archive of raw events');
  }
  return isAbsolute(value) ? value : resolve(value);
}
