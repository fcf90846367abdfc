import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of profiled time by area (program code grouped by library), self time. */
  areas: Array<[string, number]>;
  /** Functions by self time. */
  self: Array<[string, number]>;
  /** Functions by inclusive time (recursion counted once). */
  inclusive: Array<[string, number]>;
  /** Share of profiled time by what the API was doing (first matching rule along the stack). */
  activities: Array<[string, number]>;
}

/**
 * What a sample was spent on, judged from its whole stack: the first rule (in
 * this order) that matches any frame wins.
 */
export type ActivityRules = Array<[string, (fn: string, url: string) => boolean]>;

/** What the command API was doing. */
export const COMMAND_API_ACTIVITIES: ActivityRules = [
  ['relay (read store, encode, publish)', (fn, url) => url.includes('publication-relay') || url.includes('event-batch-message') || url.includes('event-reader')],
  ['JSON.parse of request', (fn, url) => fn === 'decode' && url.includes('record-payment-events.connect')],
  ['validation + canonical JSON + hash', (fn) => fn === 'validateRecordRequest' || fn === 'toNewEvent'],
  ['append: claim ids (params + send)', (fn, url) => fn === 'claimIds' && url.includes('event-store')],
  ['append: insert events (params + send)', (fn, url) => fn === 'insert' && url.includes('event-store')],
  ['append: other (tx, dedupe, sort)', (fn, url) => url.includes('event-store') || url.includes('libs/database')],
  ['pg driver: sending queued queries, parsing results', (fn, url) => url.includes('node_modules/pg')],
  ['nats client', (fn, url) => url.includes('@nats-io')],
  ['HTTP: fastify/nest/node http', (fn, url) => url.includes('fastify') || url.includes('@nestjs') || url.includes('node:_http') || url.includes('unary-request') || url.includes('command-api/src')],
  ['metrics', (fn, url) => url.includes('prom-client')],
];

/**
 * Where a V8 CPU profile spends its time. `rules` say what the process was
 * doing (the command API's by default); samples no rule matches are `other`.
 */
export function summarizeCpuProfile(
  file: string,
  top = 15,
  rules: ActivityRules = COMMAND_API_ACTIVITIES,
  other = 'other (node internals: sockets, streams, timers)',
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const activities = new Map<string, number>();
  const root = profile.nodes[0];
  const stack: string[] = [];
  const frames: ProfileNode[] = [];
  const visit = (node: ProfileNode): void => {
    const key = functionKey(node);
    const own = selfUs.get(node.id) ?? 0;
    frames.push(node);
    if (own > 0) {
      const name = node.callFrame.functionName;
      let activity = name === '(garbage collector)' || name === '(idle)' || name === '(program)' ? name : undefined;
      for (const [label, rule] of rules) {
        if (activity) break;
        if (frames.some((f) => rule(f.callFrame.functionName, f.callFrame.url))) activity = label;
      }
      activity ??= other;
      activities.set(activity, (activities.get(activity) ?? 0) + own);
    }
    self.set(key, (self.get(key) ?? 0) + own);
    const area = areaOf(node);
    areas.set(area, (areas.get(area) ?? 0) + own);
    stack.push(key);
    if (own > 0) for (const k of new Set(stack)) inclusive.set(k, (inclusive.get(k) ?? 0) + own);
    for (const child of node.children ?? []) visit(byId.get(child)!);
    stack.pop();
    frames.pop();
  };
  visit(root);

  const share = (m: Map<string, number>, n: number) =>
    [...m.entries()].filter(([k]) => k !== '(root)').map(([k, v]) => [k, v / total] as [string, number]).sort((a, b) => b[1] - a[1]).slice(0, n);
  return { totalMs: total / 1000, areas: share(areas, 20), self: share(self, top), inclusive: share(inclusive, top + 10), activities: share(activities, 20) };
}

function functionKey(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  return `${name} ${shortUrl(url)}:${lineNumber + 1}`;
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
  const m = path.match(/\/(apps|libs|migrations)\/.*/);
  return m ? m[0].slice(1) : path;
}

/** Coarse area of a profile node, by where its code lives. */
function areaOf(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (functionName.startsWith('(')) return functionName; // (garbage collector), (program), (idle)
  if (!url) return `native: ${functionName || '?'}`;
  if (url.startsWith('node:')) {
    const mod = url.slice(5).split('/').slice(0, 3).join('/');
    return `node: ${mod}`;
  }
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + 'node_modules/'.length).split('/');
    return `npm: ${parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  const m = path.match(/\/(apps|libs)\/([^/]+)\/src\/(.*)$/);
  if (m) return `${m[1]}/${m[2]}: ${m[3].split('/').pop()}`;
  return path;
}

// Standalone: node scripts/run-ts.mjs bench/support/cpu-profile-summary.ts FILE.cpuprofile
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: cpu-profile-summary.ts FILE.cpuprofile');
    process.exit(2);
  }
  const summary = summarizeCpuProfile(file, 30);
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  console.log(`profiled ${summary.totalMs.toFixed(0)} ms`);
  console.log('-- by activity --');
  for (const [k, v] of summary.activities) console.log(`${pct(v)}  ${k}`);
  console.log('-- by area (self) --');
  for (const [k, v] of summary.areas) console.log(`${pct(v)}  ${k}`);
  console.log('-- top functions (self) --');
  for (const [k, v] of summary.self) console.log(`${pct(v)}  ${k}`);
  console.log('-- top functions (inclusive) --');
  for (const [k, v] of summary.inclusive) console.log(`${pct(v)}  ${k}`);
}
