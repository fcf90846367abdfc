import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository's root as seen from a module (`import.meta.url`), whether it
 * runs from source (apps/ops/src/…) or compiled (dist/apps/ops/src/…): the
 * nearest directory above it whose package.json has a name (dist/'s own
 * package.json only sets the module type). The working directory when none has.
 */
export function repositoryRoot(moduleUrl: string): string {
  for (let dir = dirname(fileURLToPath(moduleUrl)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && typeof (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'string') return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}
