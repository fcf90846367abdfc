import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardLink, signMerchantToken } from '@app/access';
import { eventually } from '@app/testing';
import { startCommandApiHarness, type CommandApiHarness } from '../apps/command-api/src/testing/command-api-harness.js';
import { sendEvents } from '../apps/projector/src/testing/send-events.js';
import { expectedTotals, generateEvents, type ExpectedTotals } from '../libs/merchant-metrics/src/testing/index.js';
import type { PaymentEventJson } from '../libs/projections/src/payment-event.json.js';
import { AppProcess, PROJECTOR, QUERY_API } from './support/app-process.js';
import { launchChromium } from './support/chromium.js';

// The callbacks given to page.evaluate and $eval run in chromium; without the DOM's types (this program is Node's), its globals are any here.
declare const document: any;
declare const location: any;
declare const sessionStorage: any;
declare const localStorage: any;
declare const history: any;

const SECRET = 'e2e-dashboard-jwt-secret-0123456789';
const DAY_MS = 86_400_000;
/** generateEvents gives odd merchants JPY, USD and EUR, even ones JPY only. */
const A = 'dash-1';
const B = 'dash-0';

// ---- What the page must show, written out here: neither the page's code nor Intl's currency data. ----

const CURRENCIES: Record<string, { digits: number; symbol: string }> = { JPY: { digits: 0, symbol: '¥' }, USD: { digits: 2, symbol: '$' }, EUR: { digits: 2, symbol: '€' } };
const grouped = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** Minor units as a decimal of the major unit: JPY "1234" → "1234", USD "-1234" → "-12.34". */
function major(minor: string, currency: string): string {
  const { digits } = CURRENCIES[currency]!;
  const negative = minor.startsWith('-');
  const magnitude = (negative ? minor.slice(1) : minor).padStart(digits + 1, '0');
  const whole = magnitude.slice(0, magnitude.length - digits);
  return `${negative ? '-' : ''}${whole}${digits ? `.${magnitude.slice(-digits)}` : ''}`;
}

function money(minor: string | null, currency: string): string {
  if (minor === null) return '—';
  const decimal = major(minor, currency);
  const negative = decimal.startsWith('-');
  const [whole, fraction] = (negative ? decimal.slice(1) : decimal).split('.');
  return `${negative ? '-' : ''}${CURRENCIES[currency]!.symbol}${grouped(whole!)}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** The page's rounding, as its README states it: a ratio to tenths of a percent, Math.round(ratio × 1000) / 10. */
const tenths = (ratio: number) => Math.round(ratio * 1000) / 10;
const oneDecimal = (x: number) => {
  const [whole, fraction] = x.toFixed(1).split('.');
  return `${grouped(whole!)}.${fraction}`;
};
const percent = (ratio: number | null) => (ratio === null ? '—' : `${oneDecimal(tenths(ratio))}%`);

interface Values {
  currency: string; transactionCount: number; grossAmount: string; refundCount: number; refundAmount: string; netAmount: string;
  failedCount: number; failureRate: number | null; averageTicket: string | null; uniqueCustomers: number; uniqueCustomersExact: boolean;
  uniqueCustomersStandardError: number;
}
const zeros = (currency: string): Values => ({
  currency, transactionCount: 0, grossAmount: '0', refundCount: 0, refundAmount: '0', netAmount: '0', failedCount: 0,
  failureRate: null, averageTicket: null, uniqueCustomers: 0, uniqueCustomersExact: true, uniqueCustomersStandardError: 0,
});
const valuesIn = (totals: Values[], currency: string) => totals.find((v) => v.currency === currency) ?? zeros(currency);

const CARDS = [
  ['grossAmount', 'amount'], ['netAmount', 'amount'], ['refundAmount', 'amount'], ['transactionCount', 'count'],
  ['failureRate', 'rate'], ['averageTicket', 'amount'], ['uniqueCustomers', 'count'],
] as const;

/** Each card as the page must show it: its value exactly as GraphQL gave it, that value written out, and its change. */
function expectedCards(now: Values, before: Values, currency: string, versus: string) {
  return CARDS.map(([measure, kind]) => {
    const value = now[measure];
    const previous = before[measure];
    let text: string;
    if (value === null) text = '—';
    else if (kind === 'amount') text = money(value as string, currency);
    else if (kind === 'rate') text = percent(value as number);
    else text = grouped(String(value));
    if (measure === 'uniqueCustomers' && !now.uniqueCustomersExact) text = `≈\u2009${text}`;
    let change: number | null = null;
    if (value !== null && previous !== null) {
      if (kind === 'rate') change = tenths((value as number) - (previous as number));
      else {
        const base = Math.abs(Number(previous));
        const difference = kind === 'amount' ? Number(BigInt(value as string) - BigInt(previous as string)) : (value as number) - (previous as number);
        change = base === 0 ? null : tenths(difference / base);
      }
    }
    const sign = change === null || change === 0 ? '' : change > 0 ? '+' : '\u2212';
    const changeText = change === null ? '—' : `${sign}${oneDecimal(Math.abs(change))}${kind === 'rate' ? ' pp' : '%'}`;
    return { measure, value: value === null ? '' : String(value), text, change: `${changeText} ${versus}` };
  });
}

// ---- Ranges in a zone, found by trying offsets with Intl (not the page's calendar code). ----

interface CivilDate { y: number; m: number; d: number }
const wall = (zone: string) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const civil = (t: number, zone: string): CivilDate => {
  const [y, m, d] = wall(zone).format(new Date(t)).slice(0, 10).split('-').map(Number);
  return { y: y!, m: m!, d: d! };
};
const shift = (date: CivilDate, days: number, months = 0): CivilDate => {
  const t = new Date(Date.UTC(date.y, date.m - 1 + months, date.d + days));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
};
const iso = (date: CivilDate) => `${date.y}-${String(date.m).padStart(2, '0')}-${String(date.d).padStart(2, '0')}`;

/** The first instant the zone's clocks read that date at 00:00:00 (every zone's offset is a multiple of 15 minutes). */
function midnight(date: CivilDate, zone: string): number {
  for (let minutes = 14 * 60; minutes >= -14 * 60; minutes -= 15) {
    const t = Date.UTC(date.y, date.m - 1, date.d) - minutes * 60_000;
    if (wall(zone).format(new Date(t)) === `${iso(date)}, 00:00:00`) return t;
  }
  throw new Error(`no midnight on ${iso(date)} in ${zone}`);
}

/** An instant as the zone's local time with its offset, 2026-01-01T00:00:00-05:00. */
function localIso(t: number, zone: string): string {
  const text = wall(zone).format(new Date(t)).replace(', ', 'T');
  const [date, time] = text.split('T');
  const offset = Math.round((Date.parse(`${date}T${time}Z`) - t) / 60_000);
  const abs = Math.abs(offset);
  return `${date}T${time}${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

interface Range { granularity: 'HOUR' | 'DAY' | 'MONTH'; from: number; to: number; comparisonFrom: number; comparisonTo: number }

function lastDays(n: number, zone: string): Range {
  const today = civil(Date.now(), zone);
  const from = midnight(shift(today, 1 - n), zone);
  return { granularity: 'DAY', from, to: midnight(shift(today, 1), zone), comparisonFrom: midnight(shift(today, 1 - 2 * n), zone), comparisonTo: from };
}

function today(zone: string): Range {
  const day = civil(Date.now(), zone);
  const from = midnight(day, zone);
  const to = midnight(shift(day, 1), zone);
  return { granularity: 'HOUR', from, to, comparisonFrom: from - (to - from), comparisonTo: from };
}

function lastTwelveMonths(zone: string): Range {
  const month = { ...civil(Date.now(), zone), d: 1 };
  const from = midnight(shift(month, 0, -11), zone);
  return { granularity: 'MONTH', from, to: midnight(shift(month, 0, 1), zone), comparisonFrom: midnight(shift(month, 0, -23), zone), comparisonTo: from };
}

const shownKey = (range: Range, zone: string, currency: string, comparison = 'PREVIOUS_PERIOD') =>
  `${new Date(range.from).toISOString()} ${new Date(range.to).toISOString()} ${zone} ${currency} ${comparison}`;

// ---- The CSV the page downloads. ----

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += c;
  }
  return rows;
}

/** Gross volume and transactions per payment method or store of one merchant and currency, from the events. */
function breakdownFromEvents(events: PaymentEventJson[], merchantId: string, currency: string, by: 'method' | 'storeId') {
  const rows = new Map<string, { gross: bigint; transactions: number }>();
  for (const e of events) {
    const p = e.paymentCompleted ?? e.paymentFailed ?? e.paymentRefunded!;
    if (e.merchantId !== merchantId || p.amount.currency !== currency) continue;
    const key = by === 'method' ? (p as { method: string }).method.replace('PAYMENT_METHOD_', '') : p.storeId;
    const row = rows.get(key) ?? { gross: 0n, transactions: 0 };
    rows.set(key, row);
    if (e.paymentCompleted) {
      row.gross += BigInt(e.paymentCompleted.amount.minorUnits);
      row.transactions++;
    }
  }
  return [...rows].map(([key, r]) => ({ key, ...r })).sort((a, b) => (a.gross === b.gross ? (a.key < b.key ? -1 : 1) : a.gross > b.gross ? -1 : 1));
}

/** The top ten stores and the rest as one row, with shares of gross volume. */
function withOther(rows: Array<{ key: string; gross: bigint; transactions: number }>) {
  const top = rows.slice(0, 10);
  const rest = rows.slice(10);
  const all = rest.length === 0 ? top : [...top, { key: `Other (${rest.length} stores)`, gross: rest.reduce((s, r) => s + r.gross, 0n), transactions: rest.reduce((s, r) => s + r.transactions, 0) }];
  const total = all.reduce((s, r) => s + r.gross, 0n);
  return all.map((r) => ({ ...r, share: Number(r.gross) / Number(total) }));
}

const METHOD_NAMES: Record<string, string> = { CARD: 'Card', WALLET: 'Wallet', QR: 'QR code', BANK_TRANSFER: 'Bank transfer', POINTS: 'Points' };

describe('the merchants\' dashboard in a real browser (chromium): sign-in link → GraphQL → cards, chart, tables, CSV', () => {
  let h: CommandApiHarness;
  let projector: AppProcess;
  let queryApi: AppProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let downloads: string;
  const requests: string[] = [];
  const problems: string[] = [];
  const overviews: Array<{ variables: Record<string, string>; answer?: any }> = [];
  // Spread over the last 95 days, so that every preset has data and the last 12 months hold every event.
  const span = { from: new Date(Date.now() - 95 * DAY_MS), to: new Date(Date.now() - 60_000) };
  const events = generateEvents({ seed: 13, count: 3000, merchants: 2, merchantPrefix: 'dash-', customersPerMerchant: 400, stores: 14, ...span });
  const tokens: Record<string, string> = {};

  const ask = async (merchantId: string, range: Range, zone: string): Promise<{ now: { freshness: { asOf: string }; totals: Values[]; series: any[] }; before: { totals: Values[] } }> => {
    const VALUES = 'currency transactionCount grossAmount refundCount refundAmount netAmount failedCount failureRate averageTicket uniqueCustomers uniqueCustomersExact uniqueCustomersStandardError';
    const query = `query Check($m: ID!, $from: DateTime!, $to: DateTime!, $g: Granularity!, $tz: String, $cFrom: DateTime!, $cTo: DateTime!) {
      now: merchantMetrics(merchantId: $m, from: $from, to: $to, granularity: $g, timeZone: $tz, compareTo: PREVIOUS_PERIOD) {
        freshness { asOf } totals { ${VALUES} } series { currency points { start values { grossAmount } previous { grossAmount } } }
      }
      before: merchantMetrics(merchantId: $m, from: $cFrom, to: $cTo, granularity: $g, timeZone: $tz) { totals { ${VALUES} } }
    }`;
    const variables = {
      m: merchantId, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), g: range.granularity, tz: zone,
      cFrom: new Date(range.comparisonFrom).toISOString(), cTo: new Date(range.comparisonTo).toISOString(),
    };
    const res = await fetch(`${queryApi.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[merchantId]}` }, body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: any; errors?: unknown };
    if (!body.data) throw new Error(`no data: ${JSON.stringify(body.errors)}`);
    return body.data;
  };

  beforeAll(async () => {
    h = await startCommandApiHarness();
    const env = { DATABASE_URL: h.database.url, NATS_URL: h.nats.url, MERCHANT_JWT_SECRET: SECRET };
    [projector, queryApi] = await Promise.all([AppProcess.start(PROJECTOR, env), AppProcess.start(QUERY_API, env)]);
    for (const merchantId of [A, B]) tokens[merchantId] = await signMerchantToken(SECRET, { kind: 'merchant', merchantId }, { ttlSeconds: 3600 });
    const [accepted] = await Promise.all([
      sendEvents(h.url, h.key, events, 1000),
      (async () => {
        browser = await launchChromium();
        downloads = mkdtempSync(join(tmpdir(), 'dashboard-csv-'));
        context = await browser.createBrowserContext({ downloadBehavior: { policy: 'allow', downloadPath: downloads } });
      })(),
    ]);
    expect(accepted).toBe(3000);
    // Every event projected: the last twelve months in UTC hold them all.
    const totals = expectedTotals(events);
    await eventually(async () => {
      for (const merchantId of [A, B]) {
        const answer = await ask(merchantId, lastTwelveMonths('UTC'), 'UTC');
        const completed = [...totals].filter(([key]) => key.startsWith(`${merchantId}/`)).reduce((n, [, t]) => n + t.completed, 0);
        expect(answer.now.totals.reduce((n, v) => n + v.transactionCount, 0)).toBe(completed);
      }
    }, 30_000, 200);
  });

  afterAll(async () => {
    await browser?.close();
    if (downloads) rmSync(downloads, { recursive: true, force: true });
    await queryApi?.stop();
    await projector?.stop();
    await h?.close();
  });

  /** Waits until the page shows that range, zone and currency, then compares every card with GraphQL's answer for it. */
  async function expectCards(merchantId: string, range: Range, zone: string, currency: string) {
    await page.waitForSelector(`#main[data-shown="${shownKey(range, zone, currency)}"]`, { timeout: 10_000 });
    const answer = await ask(merchantId, range, zone);
    const now = valuesIn(answer.now.totals, currency);
    const cards = await page.$$eval('#cards .card', (elements) =>
      elements.map((card) => {
        const value = card.querySelector('.value');
        return { measure: card.dataset.measure, value: value.dataset.value, text: value.textContent, change: card.querySelector('.change')!.textContent };
      }));
    expect(cards).toEqual(expectedCards(now, valuesIn(answer.before.totals, currency), currency, 'vs previous period'));
    // The page asked exactly for the range the test worked out, in the zone chosen.
    const asked = overviews.at(-1)!.variables;
    expect(asked).toMatchObject({
      merchantId, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), granularity: range.granularity, timeZone: zone,
      compareTo: 'PREVIOUS_PERIOD', comparisonFrom: new Date(range.comparisonFrom).toISOString(), comparisonTo: new Date(range.comparisonTo).toISOString(),
    });
    return { answer, now };
  }

  it('signs in with the link, shows exactly what GraphQL answers for each range and zone, exports it as CSV, stays live, fits 360 px and asks nothing but the app', async () => {
    page = await context.newPage();
    const pending = new Map<unknown, { variables: Record<string, string>; answer?: any }>();
    page.on('request', (request) => {
      requests.push(request.url());
      if (request.url() !== `${queryApi.url}/graphql`) return;
      const body = JSON.parse(request.postData() ?? '{}') as { query: string; variables: Record<string, string> };
      if (!body.query.includes('DashboardOverview')) return;
      const entry = { variables: body.variables };
      overviews.push(entry);
      pending.set(request, entry);
    });
    page.on('response', async (response) => {
      const entry = pending.get(response.request());
      if (entry === undefined) return;
      if (response.status() !== 200) problems.push(`GraphQL answered HTTP ${response.status()}`);
      const body = (await response.json().catch(() => null)) as { data?: unknown; errors?: unknown } | null;
      if (body?.errors) problems.push(`GraphQL errors: ${JSON.stringify(body.errors)}`);
      entry.answer = body?.data;
    });
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warn') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${(error as Error).message}`));
    await page.emulateTimezone('Asia/Tokyo');
    await page.setViewport({ width: 1280, height: 1000 });

    // Navigation to the cards drawn: the page's own mark (from navigation start) and as this test sees it.
    const started = Date.now();
    await page.goto(dashboardLink(queryApi.url, tokens[A]!), { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#main[data-shown] #cards .card');
    const seenMs = Date.now() - started;
    const renderedMs = Number(await page.evaluate(() => document.documentElement.dataset.renderedMs));
    // Once more in a new tab, as a merchant coming back finds it: the server has compiled the page's queries, the browser keeps uPlot.
    const again = await context.newPage();
    await again.emulateTimezone('Asia/Tokyo');
    await again.goto(dashboardLink(queryApi.url, tokens[A]!), { waitUntil: 'domcontentloaded' });
    await again.waitForSelector('#main[data-shown] #cards .card');
    const warmMs = Number(await again.evaluate(() => document.documentElement.dataset.renderedMs));
    await again.close();
    console.log(`dashboard load, navigation to cards rendered (the page's performance mark): ${renderedMs} ms the first time after the query API started (${seenMs} ms seen by the test), ${warmMs} ms the next`);
    // The target is 1 s on the local stack; the bound on the first load leaves room for a CI machine busy with other specs.
    expect(renderedMs).toBeLessThan(2000);
    expect(warmMs).toBeLessThan(1000);

    // The token left the URL at once, and is kept for this tab only.
    expect(page.url()).toBe(`${queryApi.url}/dashboard`);
    expect(await page.evaluate(() => location.hash)).toBe('');
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([tokens[A]]);
    expect(await page.evaluate(() => Object.keys(localStorage).length)).toBe(0);
    expect(await page.$eval('#merchant', (e) => e.textContent)).toBe(A);

    // Defaults: the browser's zone, the last 30 days, the currency with most transactions.
    expect(await page.$eval('#zone', (e) => (e as any).value)).toBe('Asia/Tokyo');
    expect(await page.$eval('#preset', (e) => (e as any).value)).toBe('last-30-days');
    const thirty = lastDays(30, 'Asia/Tokyo');
    const first = await ask(A, thirty, 'Asia/Tokyo');
    expect(first.now.totals.map((v) => v.currency)).toEqual(['EUR', 'JPY', 'USD']);
    const busiest = [...first.now.totals].sort((a, b) => b.transactionCount - a.transactionCount || (a.currency < b.currency ? -1 : 1))[0]!.currency;
    expect(await page.$eval('#currency', (e) => (e as any).value)).toBe(busiest);
    expect(await page.$eval('#currency-control', (e) => (e as any).hidden)).toBe(false);
    await expectCards(A, thirty, 'Asia/Tokyo', busiest);

    if (process.env.DASHBOARD_SCREENSHOT) {
      await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT as `${string}.png`, fullPage: true });
      console.log(`screenshot: ${process.env.DASHBOARD_SCREENSHOT}`);
    }

    // The last 12 months hold every event: the cards also equal the sums of the events themselves.
    await page.select('#preset', 'last-12-months');
    const year = lastTwelveMonths('Asia/Tokyo');
    const totals = expectedTotals(events);
    const checkAgainstEvents = (now: Values, t: ExpectedTotals) => {
      expect([now.grossAmount, now.netAmount, now.refundAmount, now.transactionCount, now.failedCount]).toEqual([
        String(t.gross), String(t.gross - t.refunded), String(t.refunded), t.completed, t.failed,
      ]);
      expect(now.failureRate).toBe(t.failed / (t.completed + t.failed));
      expect(now.averageTicket).toBe(String((2n * t.gross + BigInt(t.completed)) / (2n * BigInt(t.completed))));
      if (now.uniqueCustomersExact) expect(now.uniqueCustomers).toBe(t.customers.size);
      else expect(Math.abs(now.uniqueCustomers - t.customers.size) / t.customers.size).toBeLessThan(0.03);
    };
    checkAgainstEvents((await expectCards(A, year, 'Asia/Tokyo', busiest)).now, totals.get(`${A}/${busiest}`)!);

    // Another zone, then another currency: still GraphQL's figures, still the events' sums.
    await page.select('#zone', 'America/New_York');
    const yearNewYork = lastTwelveMonths('America/New_York');
    checkAgainstEvents((await expectCards(A, yearNewYork, 'America/New_York', busiest)).now, totals.get(`${A}/${busiest}`)!);
    const other = ['EUR', 'JPY', 'USD'].find((c) => c !== busiest)!;
    await page.select('#currency', other);
    const { answer: yearAnswer, now: yearNow } = await expectCards(A, yearNewYork, 'America/New_York', other);
    checkAgainstEvents(yearNow, totals.get(`${A}/${other}`)!);

    // The tables: gross volume and transactions by method and by store (top ten and the rest), from the events.
    const methods = breakdownFromEvents(events, A, other, 'method');
    const stores = withOther(breakdownFromEvents(events, A, other, 'storeId'));
    expect(stores).toHaveLength(11);
    const tables = await page.$$eval('#breakdowns table', (elements) =>
      elements.map((table) => ({
        caption: table.querySelector('caption')!.textContent,
        rows: [...table.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((cell) => (cell as any).dataset.value ?? cell.textContent)),
      })));
    const methodTotal = methods.reduce((s, r) => s + r.gross, 0n);
    expect(tables).toEqual([
      { caption: 'By payment method', rows: methods.map((r) => [METHOD_NAMES[r.key], String(r.gross), String(r.transactions), String(Number(r.gross) / Number(methodTotal))]) },
      { caption: 'By store', rows: stores.map((r) => [r.key, String(r.gross), String(r.transactions), String(r.share)]) },
      {
        caption: 'By currency',
        rows: ['EUR', 'JPY', 'USD'].map((c) => {
          const t = totals.get(`${A}/${c}`)!;
          const all = ['EUR', 'JPY', 'USD'].reduce((n, x) => n + totals.get(`${A}/${x}`)!.completed, 0);
          return [c, String(t.gross), String(t.completed), String(t.completed / all)];
        }),
      },
    ]);

    // Keyboard: every control is reached with Tab, and the CSV is exported with Enter.
    await page.evaluate(() => document.activeElement?.blur());
    const focused: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate(() => document.activeElement?.id ?? ''));
    }
    expect(focused).toEqual(expect.arrayContaining(['sign-out', 'preset', 'zone', 'comparison', 'currency', 'export', 'measure']));
    await page.focus('#export');
    await page.keyboard.press('Enter');
    const file = await eventually(() => {
      const names = readdirSync(downloads).filter((name) => name.endsWith('.csv'));
      expect(names).toHaveLength(1);
      return join(downloads, names[0]!);
    }, 10_000, 100);
    const firstMonth = civil(yearNewYork.from, 'America/New_York');
    const lastDay = civil(yearNewYork.to - 1, 'America/New_York');
    expect(file.endsWith(`payments-${A}-${iso(firstMonth)}-to-${iso(lastDay)}.csv`)).toBe(true);
    const rows = parseCsv(readFileSync(file, 'utf8'));
    const before = valuesIn(yearAnswer.before.totals, other);
    const amount = (v: string | null) => (v === null ? '' : major(v, other));
    const series = yearAnswer.now.series.find((s: { currency: string }) => s.currency === other);
    expect(series.points).toHaveLength(12);
    const breakdownRows = (section: string, list: Array<{ key: string; gross: bigint; transactions: number; share: number }>, currencyOf: (key: string) => string) =>
      list.flatMap((r) => [
        [section, currencyOf(r.key), r.key, 'gross_volume', major(String(r.gross), currencyOf(r.key)), ''],
        [section, currencyOf(r.key), r.key, 'transactions', String(r.transactions), ''],
        [section, currencyOf(r.key), r.key, 'share_percent', tenths(r.share).toFixed(1), ''],
      ]);
    const allCompleted = ['EUR', 'JPY', 'USD'].reduce((n, x) => n + totals.get(`${A}/${x}`)!.completed, 0);
    expect(rows).toEqual([
      ['section', 'currency', 'item', 'measure', 'value', 'previous_value'],
      ['range', '', 'from', '', localIso(yearNewYork.from, 'America/New_York'), localIso(yearNewYork.comparisonFrom, 'America/New_York')],
      ['range', '', 'to', '', localIso(yearNewYork.to, 'America/New_York'), localIso(yearNewYork.comparisonTo, 'America/New_York')],
      ['range', '', 'time_zone', '', 'America/New_York', ''],
      ['range', '', 'granularity', '', 'MONTH', ''],
      ['range', '', 'comparison', '', 'PREVIOUS_PERIOD', ''],
      ['total', other, '', 'gross_volume', amount(yearNow.grossAmount), amount(before.grossAmount)],
      ['total', other, '', 'net_volume', amount(yearNow.netAmount), amount(before.netAmount)],
      ['total', other, '', 'refunds', amount(yearNow.refundAmount), amount(before.refundAmount)],
      ['total', other, '', 'transactions', String(yearNow.transactionCount), String(before.transactionCount)],
      ['total', other, '', 'failure_rate', String(yearNow.failureRate), before.failureRate === null ? '' : String(before.failureRate)],
      ['total', other, '', 'average_ticket', amount(yearNow.averageTicket), amount(before.averageTicket)],
      ['total', other, '', 'unique_customers', String(yearNow.uniqueCustomers), String(before.uniqueCustomers)],
      ['total', other, '', 'refund_count', String(yearNow.refundCount), String(before.refundCount)],
      ['total', other, '', 'unique_customers_exact', String(yearNow.uniqueCustomersExact), String(before.uniqueCustomersExact)],
      ...series.points.map((p: { start: string; values: { grossAmount: string }; previous: { grossAmount: string } }) => [
        'series', other, localIso(Date.parse(p.start), 'America/New_York'), 'gross_volume', major(p.values.grossAmount, other), major(p.previous.grossAmount, other),
      ]),
      ...breakdownRows('payment_method', methods.map((r) => ({ ...r, share: Number(r.gross) / Number(methodTotal) })), () => other),
      ...breakdownRows('store', stores, () => other),
      ...breakdownRows('currency', ['EUR', 'JPY', 'USD'].map((c) => ({ key: c, gross: totals.get(`${A}/${c}`)!.gross, transactions: totals.get(`${A}/${c}`)!.completed, share: totals.get(`${A}/${c}`)!.completed / allCompleted })), (c) => c),
    ]);

    // The last 30 days in New York, against the previous 30 and against the same days a year earlier, which had nothing.
    await page.select('#preset', 'last-30-days');
    const month = lastDays(30, 'America/New_York');
    await expectCards(A, month, 'America/New_York', other);
    await page.select('#comparison', 'PREVIOUS_YEAR');
    await page.waitForSelector(`#main[data-shown="${shownKey(month, 'America/New_York', other, 'PREVIOUS_YEAR')}"]`);
    const yearEarlier = (date: CivilDate) => ({ y: date.y - 1, m: date.m, d: date.m === 2 && date.d === 29 ? 28 : date.d });
    expect(overviews.at(-1)!.variables).toMatchObject({
      compareTo: 'PREVIOUS_YEAR',
      comparisonFrom: new Date(midnight(yearEarlier(civil(month.from, 'America/New_York')), 'America/New_York')).toISOString(),
      comparisonTo: new Date(midnight(shift(yearEarlier(civil(month.to - 1, 'America/New_York')), 1), 'America/New_York')).toISOString(),
    });
    expect(await page.$$eval('#cards .change', (e) => e.map((c) => c.textContent))).toEqual(CARDS.map(() => '— vs same period last year'));
    await page.select('#comparison', 'PREVIOUS_PERIOD');
    await expectCards(A, month, 'America/New_York', other);

    // Live: "data as of" moves on and new events show, without a reload (the same document all along).
    await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));
    const asOfBefore = await page.$eval('#freshness', (e) => e.textContent);
    expect(asOfBefore).toMatch(/^data as of \d{2}:\d{2}:\d{2}$/);
    const transactionsBefore = Number(await page.$eval('#cards [data-measure="transactionCount"] .value', (e) => (e as any).dataset.value));
    const live = [0, 1, 2].map((i) => ({
      eventId: `00000000-0000-4000-a000-00000000000${i}`, merchantId: A, occurredAt: new Date(Date.now() - 5_000).toISOString(),
      paymentCompleted: { paymentId: `live-${i}`, customerId: 'c-live', storeId: 's-live', method: 'PAYMENT_METHOD_CARD', amount: { currency: other, minorUnits: '500' } },
    }));
    expect(await sendEvents(h.url, h.key, live)).toBe(3);
    await eventually(async () => {
      const value = await page.$eval('#cards [data-measure="transactionCount"] .value', (e) => (e as any).dataset.value);
      expect(Number(value)).toBe(transactionsBefore + 3);
      expect(await page.$eval('#freshness', (e) => e.textContent)).not.toBe(asOfBefore);
    }, 15_000, 200);
    // The text is the latest answer's freshness.asOf in the zone shown.
    await eventually(async () => {
      const latest = overviews.filter((o) => o.answer).at(-1)!.answer.current.freshness.asOf as string;
      const clock = new Intl.DateTimeFormat('en-GB', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(latest));
      expect(await page.$eval('#freshness', (e) => e.textContent)).toBe(`data as of ${clock}`);
    }, 10_000, 50);
    expect(await page.evaluate(() => [(globalThis as { sameDocument?: boolean }).sameDocument, (performance as any).getEntriesByType('navigation').length])).toEqual([true, 1]);

    // Today, by hour (the live events are in it).
    await page.select('#preset', 'today');
    await expectCards(A, today('America/New_York'), 'America/New_York', other);

    // 360 px wide: nothing overflows sideways, the chart included.
    await page.setViewport({ width: 360, height: 800 });
    await eventually(async () => {
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        chart: document.querySelector('#chart .uplot')!.getBoundingClientRect().right,
        widest: Math.max(...[...document.querySelectorAll('body *')].map((e: any) => e.getBoundingClientRect().right)),
        scrolled: [...document.querySelectorAll('.table-wrap')].filter((e: any) => e.scrollWidth > e.clientWidth).length,
      }));
      expect(widths.page).toBeLessThanOrEqual(360);
      expect(widths.chart).toBeLessThanOrEqual(360);
      expect(widths.widest).toBeLessThanOrEqual(360);
      expect(widths.scrolled).toBe(0); // the tables fit too, no sideways scrolling inside them
    }, 5_000, 100);
    await page.setViewport({ width: 1280, height: 1000 });

    // Every request the page made was to the app itself (the CSV is a blob of this origin), and none was refused.
    expect(requests.length).toBeGreaterThan(10);
    for (const url of requests) expect(url.startsWith(`${queryApi.url}/`) || url.startsWith(`blob:${queryApi.url}/`), url).toBe(true);
    expect(problems).toEqual([]);
  });

  it('a second merchant\'s link replaces the first one\'s token, and the page shows only that merchant\'s figures', async () => {
    const asked = overviews.length;
    await page.goto(dashboardLink(queryApi.url, tokens[B]!));
    const year = lastTwelveMonths('America/New_York');
    await page.select('#preset', 'last-12-months');
    await page.waitForSelector(`#main[data-shown="${shownKey(year, 'America/New_York', 'JPY')}"]`);
    expect(await page.$eval('#merchant', (e) => e.textContent)).toBe(B);
    expect(await page.evaluate(() => [location.href, Object.values(sessionStorage)])).toEqual([`${queryApi.url}/dashboard`, [tokens[B]]]);
    // B sells in JPY only: no currency to choose, no table by currency.
    expect(await page.$eval('#currency-control', (e) => (e as any).hidden)).toBe(true);
    expect(await page.$$eval('#breakdowns caption', (e) => e.map((c) => c.textContent))).toEqual(['By payment method', 'By store']);
    const { now } = await expectCards(B, year, 'America/New_York', 'JPY');
    const t = expectedTotals(events).get(`${B}/JPY`)!;
    expect([now.grossAmount, now.transactionCount, now.failedCount]).toEqual([String(t.gross), t.completed, t.failed]);
    expect(now.grossAmount).not.toBe(expectedTotals(events).get(`${A}/JPY`)!.gross.toString());
    // More than 256 customers over the year: the card says it is an estimate, as the answer does.
    expect(now.uniqueCustomersExact).toBe(false);
    expect(await page.$eval('#cards [data-measure="uniqueCustomers"] .value', (e) => [(e as any).dataset.estimate, e.textContent!.startsWith('≈')])).toEqual(['true', true]);
    expect(await page.$eval('#cards [data-measure="uniqueCustomers"] .note', (e) => e.textContent)).toBe('estimate, standard error 0.8%');
    const stores = withOther(breakdownFromEvents(events, B, 'JPY', 'storeId'));
    expect(await page.$$eval('#breakdowns .table-wrap:nth-child(2) tbody tr th', (e) => e.map((c) => c.textContent))).toEqual(stores.map((r) => r.key));
    // Since the switch the page asked for B only.
    const since = overviews.slice(asked);
    expect(since.length).toBeGreaterThan(0);
    expect(new Set(since.map((o) => o.variables.merchantId))).toEqual(new Set([B]));
    expect(problems).toEqual([]);
  });
});
