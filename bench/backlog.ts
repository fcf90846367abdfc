/**
 * bench:backlog — the projector working through one merchant's large backlog:
 * its peak memory, its /health answers and its rate, for issue 11's "RSS under
 * 512 MB through a 10,000,000-event backlog of one merchant".
 *
 * Starts embedded PostgreSQL, nats-server and the command API as child
 * processes, stores --events events of one merchant through the command API
 * (8 producers × 1000-event requests; the relay publishes them to JetStream
 * as it goes), then starts the projector on that backlog and, until it has
 * applied every event, samples its RSS (VmRSS of its process) every 250 ms and
 * asks its /health/live. Baseline in the same run: the ingest rate, with no
 * projector running.
 *
 *   npm run bench:backlog -- [--events N (10000000)] [--merchants N (1)] [--projections a,b (all)] [--cpu-prof DIR (the projector's first 60 s at most)] [--pg NAME=VALUE]...
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { addNameValue, numberFlag } from './support/args.js';
import { BodySource, LoadGenerator } from './support/load.js';
import { COMMAND_API_APP, PROJECTOR_APP, Resources, startApp, startBenchSystem, withClient } from './support/stack.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const target = numberFlag(args, '--events', 10_000_000);
  const merchants = numberFlag(args, '--merchants', 1);
  const cpuProf = args.includes('--cpu-prof') ? args[args.indexOf('--cpu-prof') + 1] : undefined;
  const pgSettings: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) if (args[i] === '--pg') addNameValue(pgSettings, args[i + 1] ?? '', '--pg takes NAME=VALUE', 'npm run bench:backlog -- [--events N] [--pg NAME=VALUE]...');
  const resources = new Resources();
  process.on('SIGINT', () => void resources.cleanup().then(() => process.exit(130)));
  try {
    const { url, key, logs, env } = await startBenchSystem(resources, 'bench-backlog', pgSettings);
    const api = await startApp(resources, logs, COMMAND_API_APP, env);

    await withClient(url, async (observer) => {
      const stored = async () => Number((await observer.query('select coalesce(sum(head), 0)::bigint as n from event_store.partition_heads')).rows[0].n);
      const published = async () => Number((await observer.query('select coalesce(sum(published), 0)::bigint as n from event_store.publication_heads')).rows[0].n);
      // One merchant (or --merchants), its events within the last hour, generated as they are sent (a few prebuilt to start).
      const load = new LoadGenerator(api.url, key, 8, BodySource.prebuild(64, 1000, merchants, 3_600_000, 0xbac));
      const began = performance.now();
      load.start();
      let n = 0;
      let lastReport = began;
      while ((n = await stored()) < target) {
        if (performance.now() - lastReport > 30_000) {
          console.error(`[bench] stored ${n.toLocaleString('en-US')} of ${target.toLocaleString('en-US')}`);
          lastReport = performance.now();
        }
        await sleep(200);
      }
      await load.stop();
      const ingestSeconds = (performance.now() - began) / 1000;
      const backlog = await stored();
      if (load.total.other > 0) throw new Error(`${load.total.other} failed requests: ${load.errorSamples.join(' | ')}`);
      console.log(`stored ${backlog.toLocaleString('en-US')} events of ${merchants === 1 ? 'one merchant' : `${merchants.toLocaleString('en-US')} merchants`} in ${ingestSeconds.toFixed(0)} s: ${Math.round(backlog / ingestSeconds).toLocaleString('en-US')} events/s (no projector running)`);
      while ((await published()) < backlog) await sleep(500);

      // Applied by every projection the projector runs: the least of their sums (each projection applies every event).
      const applied = async () => Number((await observer.query(
        `select coalesce(min(n), 0)::bigint as n from (select projection, sum(events) as n from projections.checkpoints group by projection) p`,
      )).rows[0].n);
      const started = performance.now();
      if (cpuProf) mkdirSync(cpuProf, { recursive: true });
      // --projections a,b: PROJECTOR_PROJECTIONS (default every projection of the catalog, as deployed).
      const projections: Record<string, string> = args.includes('--projections') ? { PROJECTOR_PROJECTIONS: args[args.indexOf('--projections') + 1] ?? '' } : {};
      const projector = await startApp(resources, logs, PROJECTOR_APP, { ...env, ...projections }, cpuProf ? { cpuProfDir: cpuProf } : {});
      // Profiled for its first 60 s, or until it has applied the backlog.
      let profiled: Promise<void> | undefined;
      let profileTimer: NodeJS.Timeout | undefined;
      const stopProfile = () => {
        clearTimeout(profileTimer);
        profiled ??= projector.stopProfile().then((file) => console.log(`CPU profile of the projector: ${file}`));
        return profiled;
      };
      if (cpuProf) {
        projector.startProfile();
        profileTimer = setTimeout(() => void stopProfile(), 60_000);
      }
      const readyS = (performance.now() - started) / 1000;
      let peakRss = 0;
      let slowestHealthMs = 0;
      let healthFailures = 0;
      let done = 0;
      let samples = 0;
      const watching = (async () => {
        while (done < backlog) {
          peakRss = Math.max(peakRss, rssMiB(projector.pid));
          const t0 = performance.now();
          const ok = await fetch(`${projector.url}/health/live`, { signal: AbortSignal.timeout(5000) }).then((r) => r.ok, () => false);
          slowestHealthMs = Math.max(slowestHealthMs, performance.now() - t0);
          if (!ok) healthFailures++;
          samples++;
          await sleep(250);
        }
      })();
      lastReport = performance.now();
      while ((done = await applied()) < backlog) {
        if (performance.now() - lastReport > 30_000) {
          console.error(`[bench] applied ${done.toLocaleString('en-US')} of ${backlog.toLocaleString('en-US')}, peak RSS ${peakRss.toFixed(0)} MiB`);
          lastReport = performance.now();
        }
        await sleep(500);
      }
      await watching;
      if (cpuProf) await stopProfile();
      const seconds = (performance.now() - started) / 1000;
      console.log(`projector: ready ${readyS.toFixed(1)} s after its start; applied the backlog in ${seconds.toFixed(0)} s: ${Math.round(backlog / seconds).toLocaleString('en-US')} events/s ` +
        `(${(backlog / seconds / (backlog / ingestSeconds)).toFixed(2)} × the ingest rate)`);
      console.log(`peak RSS ${peakRss.toFixed(0)} MiB (target < 512), slowest /health/live ${slowestHealthMs.toFixed(0)} ms over ${samples} checks, ${healthFailures} failed`);
    });
  } finally {
    await resources.cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
