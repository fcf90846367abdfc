import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * What the query API was doing, judged from each sample's whole stack: the
 * first rule (in this order) that matches any frame wins. Most specific first:
 * the pg driver runs inside resolvers, resolvers inside GraphQL execution.
 */
const ACTIVITIES: Array<[string, (fn: string, url: string) => boolean]> = [
  ['auth: token verification', (fn, url) => url.includes('/jose/') || fn === 'verifyMerchantToken'],
  ['pg driver (send, parse results)', (_, url) => url.includes('node_modules/pg') || url.includes('pg-protocol')],
  ['reader: plan buckets, validate, zones', (_, url) => /query\/(bucket-plan|time-buckets|zone-offsets|query-limits)/.test(url)],
  ['reader: assemble answer', (_, url) => /query\/(metrics-answer|metric-values)/.test(url)],
  ['reader: other (SQL text, freshness)', (_, url) => url.includes('merchant-metrics/src/query')],
  ['resolver: GraphQL model mapping', (_, url) => url.includes('merchant-metrics.mapper') || url.includes('graphql-model')],
  ['response JSON serialization', (fn, url) => url.includes('fast-json-stringify') || fn === 'serialize' || fn === 'stringify'],
  ['GraphQL parse + validate + cost', (_, url) => /graphql\/(language|validation|utilities)\//.test(url) || url.includes('graphql-query-complexity') || url.includes('complexity.rule') || url.includes('max-aliases')],
  ['GraphQL execution (graphql-js / jit)', (_, url) => /graphql\/(execution|type)\//.test(url) || url.includes('graphql-jit') || url.includes('generated')],
  ['Nest resolver pipeline', (_, url) => url.includes('@nestjs')],
  ['mercurius', (_, url) => url.includes('mercurius')],
  ['metrics (prom-client)', (_, url) => url.includes('prom-client')],
  ['HTTP: fastify / node http / sockets', (_, url) => url.includes('fastify') || url.startsWith('node:')],
];

/** Share of the profiled time per activity, and the profiled milliseconds. */
export function profileActivities(file: string): { totalMs: number; activities: Array<[string, number]> } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const activities = new Map<string, number>();
  const frames: ProfileNode[] = [];
  const visit = (node: ProfileNode): void => {
    frames.push(node);
    const own = selfUs.get(node.id) ?? 0;
    if (own > 0) {
      const name = node.callFrame.functionName;
      let activity = name === '(garbage collector)' || name === '(idle)' || name === '(program)' ? name : undefined;
      for (const [label, rule] of ACTIVITIES) {
        if (activity) break;
        if (frames.some((f) => rule(f.callFrame.functionName, f.callFrame.url))) activity = label;
      }
      activity ??= 'other';
      activities.set(activity, (activities.get(activity) ?? 0) + own);
    }
    for (const child of node.children ?? []) visit(byId.get(child)!);
    frames.pop();
  };
  visit(profile.nodes[0]);
  return {
    totalMs: total / 1000,
    activities: [...activities].map(([k, v]) => [k, v / total] as [string, number]).sort((a, b) => b[1] - a[1]),
  };
}
