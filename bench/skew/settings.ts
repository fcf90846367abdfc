import { addNameValue } from '../support/args.js';
import type { PopulationSettings } from './population.js';

export interface SkewSettings {
  population: PopulationSettings;
  scale: number;
  versions: number[];
  zones: string[];
  /** Timed runs per query: read model and baseline, for the largest and for the median merchant. */
  runs: { largest: number; median: number; baselineLargest: number; baselineMedian: number };
  warmup: number;
  baselineWarmup: number;
  /** work_mem of the baseline's session (its sorts and hashes of a large merchant's events). */
  baselineWorkMem: string;
  /** Time budget of one measurement (one query, one side), seconds. */
  budgetSeconds: number;
  chunk: number;
  concurrency: number;
  reuse?: string;
  /** With --reuse: keep versions already built instead of rebuilding them (no rebuild timing then). */
  reuseBuilds: boolean;
  json?: string;
  pg: Record<string, string>;
}

export const USAGE = `usage: npm run bench:skew -- [--scale F] [--merchants N] [--largest-events N] [--largest-customers N]
       [--largest-history N] [--exponent S] [--months N] [--seed N] [--version N | --versions 2,3]
       [--zones Asia/Tokyo,UTC] [--runs N] [--median-runs N] [--baseline-runs N] [--baseline-median-runs N]
       [--warmup N] [--baseline-warmup N] [--baseline-work-mem 256MB] [--budget SECONDS] [--chunk EVENTS] [--concurrency N]
       [--reuse DIR [--reuse-builds]] [--json FILE] [--pg NAME=VALUE]...
  --scale multiplies the full size (100,000 merchants; the largest with 2,000,000 events and 500,000
  customers in the last 30 days and 1,000,000 events in the year before); the other size flags override it.`;

const FULL = { merchants: 100_000, largestEvents: 2_000_000, largestCustomers: 500_000, largestHistory: 1_000_000 };

function positive(flag: string, raw: string | undefined, integer: boolean): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`${flag} takes a positive ${integer ? 'integer' : 'number'}, got "${raw ?? ''}"\n${USAGE}`);
  }
  return n;
}

export function parseSkewArgs(argv: string[]): SkewSettings {
  const sizes: Partial<Record<keyof typeof FULL, number>> = {};
  const s: SkewSettings = {
    population: { ...FULL, exponent: 1.1, months: 13, seed: 11 },
    scale: 1, versions: [3], zones: ['Asia/Tokyo'],
    runs: { largest: 200, median: 1000, baselineLargest: 20, baselineMedian: 200 },
    warmup: 10, baselineWarmup: 1, baselineWorkMem: '256MB', budgetSeconds: 120, chunk: 2_000_000, concurrency: 2, reuseBuilds: false, pg: {},
  };
  const integers: Record<string, (n: number) => void> = {
    '--merchants': (n) => { sizes.merchants = n; },
    '--largest-events': (n) => { sizes.largestEvents = n; },
    '--largest-customers': (n) => { sizes.largestCustomers = n; },
    '--largest-history': (n) => { sizes.largestHistory = n; },
    '--months': (n) => { s.population.months = n; },
    '--seed': (n) => { s.population.seed = n; },
    '--version': (n) => { s.versions = [n]; },
    '--runs': (n) => { s.runs.largest = n; },
    '--median-runs': (n) => { s.runs.median = n; },
    '--baseline-runs': (n) => { s.runs.baselineLargest = n; },
    '--baseline-median-runs': (n) => { s.runs.baselineMedian = n; },
    '--warmup': (n) => { s.warmup = n; },
    '--baseline-warmup': (n) => { s.baselineWarmup = n; },
    '--chunk': (n) => { s.chunk = n; },
    '--concurrency': (n) => { s.concurrency = n; },
  };
  const rest = [...argv];
  while (rest.length > 0) {
    const flag = rest.shift()!;
    if (flag === '--help' || flag === '-h') throw new Error(USAGE);
    if (flag === '--reuse-builds') { s.reuseBuilds = true; continue; }
    const raw = rest.shift();
    if (flag in integers) integers[flag](positive(flag, raw, true));
    else if (flag === '--scale') s.scale = positive(flag, raw, false);
    else if (flag === '--exponent') s.population.exponent = positive(flag, raw, false);
    else if (flag === '--budget') s.budgetSeconds = positive(flag, raw, false);
    else if (flag === '--versions') s.versions = (raw ?? '').split(',').map((v) => positive(flag, v, true));
    else if (flag === '--zones') s.zones = (raw ?? '').split(',').filter((z) => z !== '');
    else if (flag === '--reuse' && raw) s.reuse = raw;
    else if (flag === '--json' && raw) s.json = raw;
    else if (flag === '--baseline-work-mem') {
      if (!raw || !/^\d+(kB|MB|GB)$/.test(raw)) throw new Error(`--baseline-work-mem takes a size such as 256MB, got "${raw ?? ''}"\n${USAGE}`);
      s.baselineWorkMem = raw;
    }
    else if (flag === '--pg') addNameValue(s.pg, raw ?? '', '--pg takes NAME=VALUE (a PostgreSQL setting)', USAGE);
    else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  for (const key of Object.keys(FULL) as Array<keyof typeof FULL>) {
    s.population[key] = sizes[key] ?? Math.max(1, Math.round(FULL[key] * s.scale));
  }
  if (s.population.largestCustomers > s.population.largestEvents) throw new Error(`--largest-customers cannot exceed --largest-events\n${USAGE}`);
  if (s.zones.length === 0) throw new Error(`--zones needs at least one zone\n${USAGE}`);
  if (s.reuseBuilds && !s.reuse) throw new Error(`--reuse-builds needs --reuse DIR\n${USAGE}`);
  s.versions = [...new Set(s.versions)].sort((a, b) => a - b);
  return s;
}
