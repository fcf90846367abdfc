import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ArchiveError } from './archive-error.js';

const LOCK_FILE = '.archive.lock';

/**
 * Holds `dir` for one writer (an export) at a time: two exports at once
 * would both extend the same manifest from the same old one, and the second
 * rename would drop the first one's files from it. A crashed writer leaves
 * the file behind; the error says so, with the pid that wrote it.
 */
export async function lockArchive(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  try {
    const handle = await open(path, 'wx');
    await handle.writeFile(`${process.pid} ${new Date().toISOString()}\n`);
    await handle.close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = (await readFile(path, 'utf8').catch(() => '')).trim() || 'unknown';
    throw new ArchiveError(
      `another export is writing ${dir} (${path}: pid and start ${holder}); if no such process runs, remove that file and retry`,
    );
  }
  return () => rm(path, { force: true });
}
