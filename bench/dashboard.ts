/**
 * bench:dashboard — the merchants' dashboard's page load for a merchant with a
 * year of data (issue 13: "loads in under 1 s on the local stack", measured
 * for a merchant that is not an empty one).
 *
 * Runs on a data set bench:skew left in its cluster (`--reuse DIR` there):
 * 100,000 Zipf merchants, the largest with 3,000,000 events over 13 months
 * and 40 stores, built as merchant-metrics v3. The bench starts that cluster,
 * makes the built version live if none is, and then, --loads times: starts a
 * fresh query API process (production mode, the repository's entry point),
 * opens /dashboard#token=… in Debian's chromium (headless, through
 * puppeteer-core) and reads the page's own mark, navigation start to the
 * cards drawn, for the first page of the fresh process and the next one in a
 * new tab; then switches that tab to "Last 12 months" and times the change
 * until every part is drawn again (from the test side). One merchant per
 * run (`--merchant`, default merchant-1, the largest); the zone is the
 * browser's (`--zone`, default Asia/Tokyo).
 *
 *   npm run bench:dashboard -- --reuse .data/bench/skew-pg [--database skew] [--merchant merchant-1] [--loads 5] [--zone Asia/Tokyo] [--timeline]
 *
 * `--timeline` prints each page's Resource Timing (document, modules, GraphQL requests) up to the cards drawn.
 *
 * Baseline in the same run: the page's two GraphQL requests sent by this
 * process at once with fetch, on the same warm API: what the page costs beyond
 * its answers.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dashboardLink, signMerchantToken } from '@app/access';
import { PROJECTION_NAME } from '@app/merchant-metrics';
import { launchChromium } from '../test/support/chromium.js';
import { numberFlag, stringFlag } from './support/args.js';
import { percentile } from './support/load.js';
import { QUERY_API_APP, Resources, startApp, startPostgres, withClient } from './support/stack.js';

/** Code below runs in the page (puppeteer serializes it): the DOM's globals, which this Node program's types leave out. */
declare const document: { documentElement: { dataset: Record<string, string | undefined> }; getElementById(id: string): { dataset: Record<string, string | undefined>; getAttribute(name: string): string | null } | null };

const USAGE = 'npm run bench:dashboard -- --reuse DIR [--database skew] [--merchant merchant-1] [--loads 5] [--zone Asia/Tokyo] [--timeline]';

const flag = (args: readonly string[], name: string, fallback?: string) => stringFlag(args, name, USAGE, fallback);
const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 0.5);
const list = (xs: number[]) => xs.map((x) => Math.round(x)).join(', ');

/** The bodies of the page's GraphQL requests as it sends them (filled as they go out), so that the baseline asks exactly the same. */
function pageRequests(page: import('puppeteer-core').Page, apiUrl: string): Array<{ query: string; variables: unknown }> {
  const bodies: Array<{ query: string; variables: unknown }> = [];
  page.on('request', (request) => {
    if (request.url() === `${apiUrl}/graphql` && request.method() === 'POST') bodies.push(JSON.parse(request.postData() ?? '{}'));
  });
  return bodies;
}

/**
 * Where a page's time went, from its own Resource Timing entries: the document, each script and
 * style, and each GraphQL request, as start → end in ms from navigation start, then the cards drawn.
 */
async function pageTimeline(page: import('puppeteer-core').Page): Promise<string> {
  const entries = await page.evaluate(() => {
    const timing = (globalThis as unknown as { performance: { getEntriesByType(type: string): Array<{ name: string; startTime: number; responseEnd: number; duration: number; domContentLoadedEventEnd?: number }> } }).performance;
    const nav = timing.getEntriesByType('navigation')[0]!;
    return [
      { name: 'document', start: nav.startTime, end: nav.responseEnd },
      { name: 'DOMContentLoaded', start: nav.domContentLoadedEventEnd ?? 0, end: nav.domContentLoadedEventEnd ?? 0 },
      ...timing.getEntriesByType('resource').map((e) => ({ name: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd })),
      { name: 'cards drawn', start: Number(document.documentElement.dataset.renderedMs), end: Number(document.documentElement.dataset.renderedMs) },
    ];
  });
  return entries.map((e) => `    ${e.start.toFixed(0).padStart(5)} → ${e.end.toFixed(0).padStart(5)} ms  ${e.name}`).join('\n');
}

/** The durations the query API logged for the GraphQL requests it completed since the last call (its request log lines). */
const logged = new Map<string, number>();
function apiTimes(logFile: string): string {
  const lines = readFileSync(logFile, 'utf8').split('\n');
  const from = logged.get(logFile) ?? 0;
  logged.set(logFile, lines.length);
  return lines.slice(from).flatMap((line) => {
    const record = /^\{/.test(line) ? (JSON.parse(line) as { url?: string; durationMs?: number }) : {};
    return record.url === '/graphql' && record.durationMs !== undefined ? [`${record.durationMs.toFixed(1)} ms`] : [];
  }).join(', ') || 'none logged';
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const reuse = flag(args, '--reuse');
  const database = flag(args, '--database', 'skew');
  const merchantId = flag(args, '--merchant', 'merchant-1');
  const zone = flag(args, '--zone', 'Asia/Tokyo');
  const loads = numberFlag(args, '--loads', 5);
  const timeline = args.includes('--timeline');
  const resources = new Resources();
  process.on('SIGINT', () => void resources.cleanup().then(() => process.exit(130)));
  try {
    const postgres = await startPostgres(resources, { reuseDir: reuse });
    const url = postgres.url(database);
    const dataset = await withClient(url, async (c) => {
      const live = await c.query<{ version: number }>('select version from projections.live where projection = $1', [PROJECTION_NAME]);
      if (live.rows.length === 0) {
        const built = await c.query<{ version: number }>(
          `select max(version) as version from projections.versions where projection = $1 and status <> 'building'`, [PROJECTION_NAME]);
        if (built.rows[0]?.version == null) throw new Error(`no built version of ${PROJECTION_NAME} in ${database}: run bench:skew with --reuse ${reuse} first`);
        await c.query('insert into projections.live (projection, version) values ($1, $2)', [PROJECTION_NAME, built.rows[0].version]);
        console.log(`made v${built.rows[0].version} live (no version was)`);
      }
      const version = (await c.query<{ version: number }>('select version from projections.live where projection = $1', [PROJECTION_NAME])).rows[0]!.version;
      const events = await c.query<{ n: string; first: Date; last: Date }>(
        `select count(*)::text as n, min(occurred_at) as first, max(occurred_at) as last from event_store.events where merchant_id = $1`, [merchantId]);
      return { version, ...events.rows[0]! };
    });
    console.log(`bench:dashboard — ${merchantId}: ${Number(dataset.n).toLocaleString('en-US')} events from ${dataset.first.toISOString()} to ${dataset.last.toISOString()}, v${dataset.version} live; zone ${zone}; ${loads} loads`);

    const secret = randomBytes(32).toString('base64url');
    const env = { DATABASE_URL: url, MERCHANT_JWT_SECRET: secret, NODE_ENV: 'production' };
    const token = await signMerchantToken(secret, { kind: 'merchant', merchantId }, { ttlSeconds: 3600 });
    const browser = await launchChromium();
    resources.onCleanup('chromium', () => browser.close());
    const logs = resources.tempDir('bench-dashboard-');
    const first: number[] = [];
    const next: number[] = [];
    const year: number[] = [];
    const answersOnly: number[] = [];
    for (let load = 0; load < loads; load++) {
      const api = await startApp(resources, logs, QUERY_API_APP, env);
      const context = await browser.createBrowserContext();
      const open = async () => {
        const page = await context.newPage();
        await page.emulateTimezone(zone);
        await page.setViewport({ width: 1280, height: 1000 });
        const bodies = pageRequests(page, api.url);
        await page.goto(dashboardLink(api.url, token), { waitUntil: 'domcontentloaded' });
        await page.waitForSelector('#main[data-shown] #cards .card', { timeout: 60_000 });
        const ms = Number(await page.evaluate(() => document.documentElement.dataset.renderedMs));
        return { page, ms, bodies };
      };
      const cold = await open();
      first.push(cold.ms);
      if (timeline) console.log(`  load ${load + 1}, first page:\n${await pageTimeline(cold.page)}\n    the API's own times: ${apiTimes(api.logFile)}`);
      await cold.page.close();
      const warm = await open();
      next.push(warm.ms);
      if (timeline) console.log(`  load ${load + 1}, next page:\n${await pageTimeline(warm.page)}\n    the API's own times: ${apiTimes(api.logFile)}`);
      // The page's own requests again, from here: what the answers alone cost on the warm API.
      const started = performance.now();
      await Promise.all(warm.bodies.slice(0, 2).map(async (body) => {
        const res = await fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
        const answer = (await res.json()) as { errors?: unknown };
        if (res.status !== 200 || answer.errors) throw new Error(`GraphQL answered ${res.status}: ${JSON.stringify(answer.errors)}`);
      }));
      answersOnly.push(performance.now() - started);
      const shown = await warm.page.$eval('#main', (main) => main.dataset.shown);
      const switched = performance.now();
      await warm.page.select('#preset', 'last-12-months');
      await warm.page.waitForFunction((before) => {
        const main = document.getElementById('main')!;
        return main.dataset.shown !== undefined && main.dataset.shown !== before && main.getAttribute('aria-busy') !== 'true';
      }, { timeout: 60_000 }, shown);
      year.push(performance.now() - switched);
      await context.close();
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${api.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
      console.log(`  load ${load + 1}: first ${first.at(-1)} ms, next ${next.at(-1)} ms, the page's requests alone ${Math.round(answersOnly.at(-1)!)} ms, last 12 months ${Math.round(year.at(-1)!)} ms (query API RSS ${rss.toFixed(0)} MiB)`);
      await api.stop();
    }
    console.log('');
    console.log('| view | median ms | every load (ms) |');
    console.log('|---|---|---|');
    console.log(`| first page after the query API started (last 30 days) | ${Math.round(median(first))} | ${list(first)} |`);
    console.log(`| the next page, new tab | ${Math.round(median(next))} | ${list(next)} |`);
    console.log(`| baseline: the page's two requests alone, warm API | ${Math.round(median(answersOnly))} | ${list(answersOnly)} |`);
    console.log(`| switch to last 12 months, until drawn | ${Math.round(median(year))} | ${list(year)} |`);
    console.log(`first page / baseline: ${(median(first) / median(answersOnly)).toFixed(2)}; target < 1,000 ms for the first page: ${median(first) < 1000 ? 'PASS' : 'MISS'} (median), ${first.filter((ms) => ms < 1000).length} of ${first.length} loads`);
  } finally {
    await resources.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exit(1);
});
