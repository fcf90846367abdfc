import {
  codeRevision,
  diffVersions,
  findVersion,
  PROJECTION_NAME,
  rebuildVersion,
  RebuildRefusedError,
  type VersionDiff,
} from '@app/merchant-metrics';
import { createPool } from '@app/database';
import { OpsError, UsageError, type OpsCommand } from './cli.js';
import { positiveInt, projectionOf } from './projection-arguments.js';
import { ProgressBar } from './progress-bar.js';

function instant(options: Record<string, string>, name: string): Date | undefined {
  const raw = options[name];
  if (raw === undefined) return undefined;
  const value = new Date(raw);
  if (Number.isNaN(value.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(raw)) throw new UsageError(`--${name} must be an ISO 8601 time, got "${raw}"`);
  return value;
}

export const rebuild: OpsCommand = {
  name: 'rebuild',
  args: ['PROJECTION'],
  options: { version: 'N', chunk: 'EVENTS' },
  summary: 'build version N (required) from position zero of the event store while the live version serves; resumable',
  async run(context, [name], options) {
    projectionOf(name!);
    const version = positiveInt(options, 'version', 'projections rebuild PROJECTION --version N');
    const chunkEvents = options.chunk === undefined ? undefined : positiveInt(options, 'chunk', '--chunk EVENTS');
    const pool = createPool({ connectionString: context.databaseUrl(), max: 4, applicationName: 'ops-rebuild' });
    const bar = new ProgressBar();
    let stopping = false;
    const onSignal = () => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stderr.write('\nstopping after the chunks in flight (Ctrl-C again to quit now); rerun to resume\n');
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const existing = await findVersion(pool, PROJECTION_NAME, version);
      context.out(existing
        ? `resuming ${PROJECTION_NAME} v${version} (${existing.status}) in ${existing.schemaName}`
        : `building ${PROJECTION_NAME} v${version} from position zero`);
      const result = await rebuildVersion(pool, {
        version, codeRevision: codeRevision(), chunkEvents, onProgress: (p) => bar.update(p), shouldStop: () => stopping,
      });
      bar.end();
      const rate = Math.round(result.events / Math.max(result.seconds, 0.001)).toLocaleString('en-US');
      if (result.stopped) throw new OpsError(`stopped after ${result.events.toLocaleString('en-US')} events; rerun the same command to resume`);
      context.out(`v${version} built: ${result.events.toLocaleString('en-US')} events in ${result.seconds.toFixed(1)} s (${rate} events/s); status ${result.version.status}`);
      context.out(`running projectors now follow v${version} from JetStream; check with \`projections list\`, compare with \`projections diff\`, then \`projections promote ${PROJECTION_NAME} --version ${version}\``);
    } catch (error) {
      bar.end();
      if (error instanceof RebuildRefusedError) throw new OpsError(error.message);
      if (error instanceof Error && /has no version/.test(error.message)) throw new OpsError(error.message);
      throw error;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await pool.end();
    }
  },
};

function printDiff(out: (line: string) => void, from: number, to: number, diff: VersionDiff): void {
  out(`${diff.cells.toLocaleString('en-US')} cells differ, for ${diff.merchants.toLocaleString('en-US')} merchants (v${from} → v${to})`);
  for (const d of diff.listed) {
    const fields = Object.entries(d.fields).map(([f, [a, b]]) => `${f} ${a} → ${b}`).join(', ');
    out(`  ${d.merchantId}  ${d.bucket.toISOString()}  ${d.currency} ${d.paymentMethod} ${d.storeId || '-'}  ${fields}`);
  }
  if (diff.cells > diff.listed.length) out(`  … ${diff.cells - diff.listed.length} more (narrow with --merchant, --from-time, --to-time, or raise --limit)`);
}

export const diff: OpsCommand = {
  name: 'diff',
  args: ['PROJECTION'],
  options: { from: 'N', to: 'M', merchant: 'ID', 'from-time': 'TIME', 'to-time': 'TIME', limit: 'N' },
  summary: 'compare versions N and M (both required) cell by cell; lists merchants and buckets that differ, with both values',
  async run(context, [name], options) {
    const projection = projectionOf(name!);
    const synopsis = 'projections diff PROJECTION --from N --to M';
    const from = positiveInt(options, 'from', synopsis);
    const to = positiveInt(options, 'to', synopsis);
    const limit = options.limit === undefined ? 50 : positiveInt(options, 'limit', '--limit N');
    const pool = createPool({ connectionString: context.databaseUrl(), max: 1, applicationName: 'ops-diff' });
    try {
      const [a, b] = [await findVersion(pool, projection, from), await findVersion(pool, projection, to)];
      if (!a || !b) throw new OpsError(`no ${projection} v${a ? to : from}`);
      const result = await diffVersions(pool, a.schemaName, b.schemaName, {
        merchantId: options.merchant, from: instant(options, 'from-time'), to: instant(options, 'to-time'), limit,
      });
      printDiff(context.out, from, to, result);
    } finally {
      await pool.end();
    }
  },
};
