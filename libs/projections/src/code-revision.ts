import { execFileSync } from 'node:child_process';

/** The code revision recorded with a version: CODE_REVISION, else git, else "unknown". */
export function codeRevision(): string {
  if (process.env.CODE_REVISION) return process.env.CODE_REVISION;
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}
