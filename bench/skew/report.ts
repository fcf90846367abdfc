import type { Agreement } from './figures.js';
import type { Latency } from './latency.js';
import type { SchemaSize } from './sizes.js';

export interface QueryResult {
  version: number;
  merchant: 'largest' | 'median';
  merchantId: string;
  zone: string;
  query: string;
  readModel: Latency;
  baseline: Latency;
  /** Baseline p50 / read model p50. */
  ratio: number;
  agreement: Agreement;
  /** Series and buckets in the answer, to show its size. */
  series: number;
  buckets: number;
}

export interface RebuildResult {
  version: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  vacuumSeconds: number;
  reused: boolean;
}

export interface VersionSize {
  version: number;
  size: SchemaSize;
  bytesPerEvent: number;
  rowsPerEvent: number;
  /** Read model bytes / event store bytes. */
  ratioToStore: number;
}

export const TARGETS = { p50Ms: 50, p99Ms: 150, speedup: 20, sizeRatio: 0.5 };

const ms = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
const pad = (text: string, width: number) => text.padEnd(width);
const left = (text: string, width: number) => text.padStart(width);
export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
export const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** Check column: the figures compared and their agreement (estimated customer counts: the largest relative error). */
function checkText(a: Agreement): string {
  if (a.mismatchCount > 0) return `${a.mismatchCount} of ${a.cells} DIFFER`;
  return `${a.cells} equal${a.estimated > 0 ? `, est. <= ${(100 * a.maxRelativeError).toFixed(1)}%` : ''}`;
}

const ORDER = { largest: 0, median: 1 } as const;

/** One line per query, grouped by version, merchant and zone: both sides' p50/p99, the ratio, the check, and (largest merchant) the per-query targets. */
export function queryTable(results: QueryResult[]): string[] {
  const sorted = [...results].sort((a, b) => a.version - b.version || ORDER[a.merchant] - ORDER[b.merchant] || a.zone.localeCompare(b.zone));
  const lines: string[] = [];
  let group = '';
  for (const r of sorted) {
    const heading = `v${r.version} · ${r.merchant} merchant (${r.merchantId}) · ${r.zone}`;
    if (heading !== group) {
      group = heading;
      lines.push('', heading);
      lines.push(`  ${pad('query', 32)}${left('read model p50 / p99 ms (n)', 29)}${left('GROUP BY p50 / p99 ms (n)', 29)}${left('ratio', 8)}  ${pad('figures vs GROUP BY', 26)}${r.merchant === 'largest' ? 'targets' : ''}`);
    }
    const rm = `${ms(r.readModel.p50)} / ${ms(r.readModel.p99)} (${r.readModel.n})`;
    const base = `${ms(r.baseline.p50)} / ${ms(r.baseline.p99)} (${r.baseline.n})`;
    const targets = r.merchant === 'largest'
      ? [`p50 ${pass(r.readModel.p50 < TARGETS.p50Ms)}`, `p99 ${pass(r.readModel.p99 < TARGETS.p99Ms)}`, `${TARGETS.speedup}x ${pass(r.ratio >= TARGETS.speedup)}`].join(' ')
      : '';
    lines.push(`  ${pad(r.query, 32)}${left(rm, 29)}${left(base, 29)}${left(`${r.ratio.toFixed(1)}x`, 8)}  ${pad(checkText(r.agreement), 26)}${targets}`);
  }
  return lines;
}

export const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');

export interface TargetLine { target: string; pass: boolean | null; detail: string }

/** The issue's targets for one version, each PASS, MISS or n/a. */
export function targetLines(version: number, results: QueryResult[], size: VersionSize | undefined, rebuilds: RebuildResult[]): TargetLine[] {
  const largest = results.filter((r) => r.version === version && r.merchant === 'largest');
  const worst = (pick: (r: QueryResult) => number, highest: boolean) =>
    largest.reduce<QueryResult | undefined>((w, r) => (w === undefined || (highest ? pick(r) > pick(w) : pick(r) < pick(w)) ? r : w), undefined);
  const p50 = worst((r) => r.readModel.p50, true);
  const p99 = worst((r) => r.readModel.p99, true);
  const speed = worst((r) => r.ratio, false);
  const where = (r: QueryResult | undefined) => (r ? `${r.query}, ${r.zone}` : 'no query ran');
  const lines: TargetLine[] = [
    { target: `largest merchant p50 < ${TARGETS.p50Ms} ms, every query`, pass: p50 ? p50.readModel.p50 < TARGETS.p50Ms : null, detail: `worst ${p50 ? ms(p50.readModel.p50) : '-'} ms (${where(p50)})` },
    { target: `largest merchant p99 < ${TARGETS.p99Ms} ms, every query`, pass: p99 ? p99.readModel.p99 < TARGETS.p99Ms : null, detail: `worst ${p99 ? ms(p99.readModel.p99) : '-'} ms (${where(p99)})` },
    { target: `>= ${TARGETS.speedup}x faster than the raw GROUP BY (p50), every query`, pass: speed ? speed.ratio >= TARGETS.speedup : null, detail: `worst ${speed ? speed.ratio.toFixed(1) : '-'}x (${where(speed)})` },
    { target: `read model <= ${TARGETS.sizeRatio} x event store bytes`, pass: size ? size.ratioToStore <= TARGETS.sizeRatio : null, detail: size ? `${size.ratioToStore.toFixed(3)} (${mib(size.size.bytes)})` : 'not measured' },
  ];
  const v2 = rebuilds.find((r) => r.version === 2 && !r.reused);
  const v3 = rebuilds.find((r) => r.version === 3 && !r.reused);
  if (version === 3) {
    lines.push(v2 && v3
      ? { target: 'rebuild v3 faster than v2', pass: v3.eventsPerSecond > v2.eventsPerSecond, detail: `${fmt(v3.eventsPerSecond)} vs ${fmt(v2.eventsPerSecond)} events/s, ratio ${(v3.eventsPerSecond / v2.eventsPerSecond).toFixed(2)}` }
      : { target: 'rebuild v3 faster than v2', pass: null, detail: 'n/a: build both with --versions 2,3' });
  }
  return lines;
}

export function formatTarget(line: TargetLine): string {
  return `  ${line.pass === null ? 'n/a ' : pass(line.pass)}  ${line.target}: ${line.detail}`;
}
