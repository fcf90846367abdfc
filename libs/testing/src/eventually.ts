/**
 * Retries an assertion until it passes or the deadline passes, then rethrows
 * its last failure. Tests wait for asynchronous outcomes with this, never with
 * fixed sleeps.
 */
export async function eventually<T>(assertion: () => Promise<T> | T, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
