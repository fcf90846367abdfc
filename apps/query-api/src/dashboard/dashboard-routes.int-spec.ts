import { readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQueryApiHarness, type QueryApiHarness } from '../testing/query-api-harness.js';
import { DASHBOARD_CSP, DASHBOARD_ROOT, UPLOT_PREFIX, UPLOT_VERSION } from './dashboard-routes.js';

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)]));

/** A GET as a browser revalidates (fetch would add Cache-Control: no-cache to a request with If-None-Match). */
const revalidate = (url: string, etag: string) =>
  new Promise<number>((resolve, reject) => get(url, { headers: { 'if-none-match': etag } }, (res) => resolve(res.resume().statusCode!)).on('error', reject));

describe('the dashboard\'s files, served by the query API', () => {
  let api: QueryApiHarness;
  const index = readFileSync(join(DASHBOARD_ROOT, 'index.html'), 'utf8');

  beforeAll(async () => {
    api = await startQueryApiHarness();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('serves the page at /dashboard and /dashboard/ with a strict CSP, no referrer, and revalidation', async () => {
    for (const path of ['/dashboard', '/dashboard/']) {
      const res = await fetch(`${api.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await res.text()).toBe(index);
      expect(res.headers.get('content-security-policy')).toBe("default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const etag = res.headers.get('etag');
      expect(etag).toBeTruthy();
      expect(await revalidate(`${api.url}${path}`, etag!)).toBe(304);
    }
    // The headers stay on the dashboard's routes.
    const health = await fetch(`${api.url}/health/live`);
    expect(health.headers.get('content-security-policy')).toBeNull();
  });

  it('references only its own files, none inline, and serves each of them', async () => {
    // No inline script or style, no handler attribute: the CSP would refuse them.
    expect(index).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(index).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    const references = [...index.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(references.length).toBeGreaterThan(10);
    for (const reference of references) {
      expect(reference.startsWith('/dashboard/'), reference).toBe(true);
      const res = await fetch(`${api.url}${reference}`);
      expect(res.status, reference).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
      if (reference.endsWith('.js')) expect(res.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
      if (reference.endsWith('.css')) expect(res.headers.get('content-type')).toMatch(/^text\/css/);
    }
    // Every module imports relative paths only, and no file names a host.
    for (const file of files(DASHBOARD_ROOT)) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
      for (const m of text.matchAll(/^import .* from '([^']+)';$/gm)) expect(m[1]!.startsWith('./') || m[1]!.startsWith('../'), `${file}: ${m[1]}`).toBe(true);
    }
  });

  it('serves uPlot under its installed version, for good, and nothing else of its package', async () => {
    expect(index).toContain(`${UPLOT_PREFIX}uPlot.min.css`);
    expect(readFileSync(join(DASHBOARD_ROOT, 'js', 'chart.js'), 'utf8')).toContain(`from '../vendor/uplot-${UPLOT_VERSION}/uPlot.esm.js'`);
    for (const name of ['uPlot.esm.js', 'uPlot.min.css']) {
      const res = await fetch(`${api.url}${UPLOT_PREFIX}${name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    for (const path of [`${UPLOT_PREFIX}uPlot.cjs.js`, `${UPLOT_PREFIX}../package.json`, '/dashboard/vendor/uplot-0.0.1/uPlot.esm.js']) {
      expect((await fetch(`${api.url}${path}`)).status, path).toBe(404);
    }
  });

  it('serves nothing outside its folder', async () => {
    for (const path of ['/dashboard/..%2f..%2fpackage.json', '/dashboard/%2e%2e/src/main.ts', '/dashboard/../../../package.json', '/dashboard/js/']) {
      const res = await fetch(`${api.url}${path}`);
      expect([403, 404], path).toContain(res.status);
    }
  });
});
