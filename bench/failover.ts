/**
 * bench:failover — what each fault of the replicated topology costs (issue 15).
 *
 * The topology of `npm run start:ha` (HaTopology: Patroni primary and
 * synchronous standby with etcd, 3 nats-servers, haproxy, two instances of
 * each app) under --clients producers (retrying what was not acknowledged,
 * 20 events a request) and --clients merchants asking GraphQL through the load
 * balancer, --events events per fault, --settle seconds of load before and
 * after each. Faults, one after another, each healed before the next: none
 * (the baseline, the same load for 10 s), a rolling restart of every instance,
 * kill -9 of a command API and a projector, kill -9 of the NATS stream leader,
 * kill -9 of the standby, kill -9 of the primary. Counted at the clients:
 * failed requests and queries, the longest time without an acknowledged ingest
 * and without an answer (and its ratio to the baseline's), then checked
 * against the store: events lost or doubled, the read model's totals, answers
 * that broke their freshness; and the time until publication moved on and
 * until the last answer more than 2 s stale.
 *
 *   npm run bench:failover [-- --clients 3 --events 60000 --settle 3 --json FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { HaScenario, type FaultReport } from '../test/support/ha-scenario.js';
import { numberFlag } from './support/args.js';

const argv = process.argv.slice(2);
const jsonAt = argv.indexOf('--json');
const scenario = new HaScenario({
  clients: numberFlag(argv, '--clients', 3),
  events: numberFlag(argv, '--events', 60_000),
  settleMs: numberFlag(argv, '--settle', 3) * 1000,
});

const reports: FaultReport[] = [];
try {
  const started = performance.now();
  await scenario.start();
  console.log(`topology and six app instances up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const run of [
    () => scenario.noFault(), () => scenario.rollingRestart(), () => scenario.killApps(), () => scenario.killNatsLeader(),
    () => scenario.killStandby(), () => scenario.killPrimary(),
  ]) {
    const report = await run();
    reports.push(report);
    console.log(`${report.fault}: done${report.notes.length ? ` (${report.notes.join('; ')})` : ''}`);
  }
} finally {
  await scenario.dispose();
}

const base = reports[0]!;
const s = (ms: number) => (ms / 1000).toFixed(2);
const rows = reports.map((r) => [
  r.fault, String(r.failedRequests), `${s(r.longestIngestGapMs)} (×${(r.longestIngestGapMs / base.longestIngestGapMs).toFixed(1)})`,
  String(r.failedQueries), `${s(r.longestQueryGapMs)} (×${(r.longestQueryGapMs / base.longestQueryGapMs).toFixed(1)})`,
  `${r.eventsLost}/${r.eventsDuplicated}`, r.readModelExact ? 'exact' : 'DIFFERS', String(r.wrongAnswers.length), s(r.publicationBackMs), s(r.freshnessBackMs),
  `${r.acknowledged}/${r.answered}`,
]);
const header = ['fault', 'failed ingest', 'longest ingest gap s (× baseline)', 'failed queries', 'longest query gap s (× baseline)', 'lost/doubled', 'read model', 'wrong answers', 'publication back s', 'freshness back s', 'events/answers'];
console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
if (jsonAt >= 0) {
  const file = resolve(argv[jsonAt + 1]!);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(reports, null, 2));
}
const broken = reports.filter((r) => r.eventsLost || r.eventsDuplicated || !r.readModelExact || r.wrongAnswers.length);
if (broken.length) {
  console.error(`\nFAILED: ${broken.map((r) => r.fault).join(', ')} lost, doubled or answered wrongly`);
  process.exitCode = 1;
}
process.exit();
