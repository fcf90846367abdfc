import { accessSync, constants } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Debian's chromium, which `npm test` installs when it is missing (scripts/ensure-deps.mjs); CHROMIUM_BIN names another. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`no chromium at ${path}: run the tests with npm test (it installs Debian's chromium), or set CHROMIUM_BIN`);
  }
  return path;
}

/**
 * A headless chromium for a test. Its sandbox needs user namespaces, which a
 * root process cannot use: --no-sandbox only when running as root (the pages
 * it opens are the test's own, on loopback). English, so numbers read as the
 * tests expect them.
 */
export async function launchChromium(): Promise<Browser> {
  const asRoot = process.getuid?.() === 0;
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...(asRoot ? ['--no-sandbox'] : []), '--lang=en-US', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
    env: { ...process.env, LANG: 'en_US.UTF-8' },
  });
}
