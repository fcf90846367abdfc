import { codeRevision, DEFAULT_MAX_LAG_SECONDS, findVersion, rebuildVersion, RebuildRefusedError, waitForCatchUp, type CatchUpResult, type RebuildResult, type SqlClient, type VersionDiff, type VersionLag } from '@app/projections';
import { ArchivedEventSource } from '@app/archive-source';
import { readArchiveDir } from '@app/config';
import { createPool } from '@app/database';
import { OpsError, UsageError, type OpsCommand, type OpsContext } from './cli.js';
import { definitionOf, maxLagOf, positiveInt } from './projection-arguments.js';
import { ProgressBar, type ProgressStream } from './progress-bar.js';

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
  // '' marks a flag: an option without a value.
  options: { version: 'N', chunk: 'EVENTS', 'wait-timeout': 'SECONDS', 'max-lag': 'SECONDS', 'no-wait': '' },
  summary:
    'build version N (required) from position zero of the event store while the live version serves (resumable), then wait ' +
    'until the projectors following it have caught up as promote requires (--max-lag, default 5 s), for at most --wait-timeout (default 600 s)',
  async run(context, [name], options) {
    const definition = definitionOf(name!);
    const projection = definition.name;
    const version = positiveInt(options, 'version', 'projections rebuild PROJECTION --version N');
    const chunkEvents = options.chunk === undefined ? undefined : positiveInt(options, 'chunk', '--chunk EVENTS');
    const wait = 'no-wait' in options ? undefined : {
      maxLagSeconds: maxLagOf(options) ?? DEFAULT_MAX_LAG_SECONDS,
      timeoutSeconds: options['wait-timeout'] === undefined ? 600 : positiveInt(options, 'wait-timeout', '--wait-timeout SECONDS'),
    };
    const pool = createPool({ connectionString: context.databaseUrl(), max: 4, applicationName: 'ops-rebuild' });
    let phase: 'build' | 'wait' = 'build';
    let stopping = false;
    const onSignal = () => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stderr.write(phase === 'build'
        ? '\nstopping after the chunks in flight (Ctrl-C again to quit now); rerun to resume\n'
        : `\nstopping the wait; v${version} stays built\n`);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const existing = await findVersion(pool, projection, version);
      if (existing?.status === 'catching_up') {
        // Built by an earlier run whose wait ended (timeout, Ctrl-C, no projector): only the wait is left.
        context.out(`${projection} v${version} is already built (catching_up); running projectors follow it from JetStream`);
      } else {
        context.out(existing
          ? `resuming ${projection} v${version} (${existing.status}) in ${existing.schemaName}`
          : `building ${projection} v${version} from position zero`);
        const bar = new ProgressBar();
        let result: RebuildResult;
        try {
          result = await rebuildVersion(pool, definition, {
            version, codeRevision: codeRevision(), chunkEvents,
            // Positions moved to the cold archive come from its files (ARCHIVE_DIR).
            events: new ArchivedEventSource(pool, process.env.ARCHIVE_DIR?.trim() ? readArchiveDir() : undefined), onProgress: (p) => bar.update(p), shouldStop: () => stopping,
          });
        } finally {
          bar.end();
        }
        const rate = Math.round(result.events / Math.max(result.seconds, 0.001)).toLocaleString('en-US');
        if (result.stopped) throw new OpsError(`stopped after ${result.events.toLocaleString('en-US')} events; rerun the same command to resume`);
        context.out(`v${version} built: ${result.events.toLocaleString('en-US')} events in ${result.seconds.toFixed(1)} s (${rate} events/s); status ${result.version.status}`);
      }
      phase = 'wait';
      if (!wait) {
        context.out(`not waiting (--no-wait): running projectors follow v${version} from JetStream; ${nextSteps(projection, version)}`);
        return;
      }
      await awaitCatchUp(context, pool, projection, version, wait, () => stopping);
    } catch (error) {
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

const nextSteps = (projection: string, version: number) =>
  `check with \`projections list\`, compare with \`projections diff\`, then \`projections promote ${projection} --version ${version}\``;

function describeLag(lag: VersionLag): string {
  const seconds = Number.isFinite(lag.seconds) ? `${lag.seconds.toFixed(1)} s` : 'unknown';
  return `${lag.events.toLocaleString('en-US')} events behind in ${lag.partitionsBehind} partitions, lag ${seconds}`;
}

/**
 * The rebuild's last phase: waits until the projectors following the
 * version have caught up by promote's rule, drawing how far behind it is.
 * Returns when it has caught up, when no projector follows it (nothing else
 * moves it: waiting could not end) or when asked to stop; throws when
 * `timeoutSeconds` pass first. The build is committed throughout.
 */
export async function awaitCatchUp(
  context: OpsContext,
  client: SqlClient,
  projection: string,
  version: number,
  options: { maxLagSeconds: number; timeoutSeconds: number; followerGraceSeconds?: number },
  shouldStop: () => boolean,
  stream?: ProgressStream,
): Promise<void> {
  const bar = new ProgressBar(stream);
  let result: CatchUpResult;
  try {
    result = await waitForCatchUp(client, { projection, version, ...options, shouldStop, onProgress: (p) => bar.catchUp(p, options.maxLagSeconds) });
  } finally {
    bar.end();
  }
  const behind = describeLag(result.lag);
  switch (result.outcome) {
    case 'caught-up':
      context.out(`v${version} has caught up (${behind}; promote needs under ${options.maxLagSeconds} s): ${nextSteps(projection, version)}`);
      return;
    case 'no-projector':
      context.out(result.projectorsRunning > 0
        ? `no projector follows v${version}, although projectors run (does their code know v${version}? restart them on this revision); not waiting: ${behind}`
        : `no projector is running, so not waiting: v${version} will catch up once one runs (\`npm start\` runs one); ${behind}`);
      context.out(`then ${nextSteps(projection, version)}`);
      return;
    case 'stopped':
      context.out(`stopped waiting (${behind}); v${version} stays built and running projectors keep following it: rerun this command to wait again, or ${nextSteps(projection, version)}`);
      return;
    case 'timed-out':
      throw new OpsError(
        `v${version} has not caught up within ${options.timeoutSeconds} s: ${behind} (promote needs under ${options.maxLagSeconds} s); ` +
          'it stays built and projectors keep following it: rerun this command to wait again, or check with `projections list`',
      );
  }
}

function printDiff(out: (line: string) => void, from: number, to: number, diff: VersionDiff): void {
  out(`${diff.rows.toLocaleString('en-US')} ${diff.unit} differ, for ${diff.merchants.toLocaleString('en-US')} merchants (v${from} → v${to})`);
  for (const d of diff.listed) {
    const fields = Object.entries(d.fields).map(([f, [a, b]]) => `${f} ${a} → ${b}`).join(', ');
    out(`  ${Object.values(d.key).join('  ')}  ${fields}`);
  }
  if (diff.rows > diff.listed.length) out(`  … ${diff.rows - diff.listed.length} more (narrow with --merchant, --from-time, --to-time, or raise --limit)`);
}

export const diff: OpsCommand = {
  name: 'diff',
  args: ['PROJECTION'],
  options: { from: 'N', to: 'M', merchant: 'ID', 'from-time': 'TIME', 'to-time': 'TIME', limit: 'N' },
  summary: 'compare versions N and M (both required) row by row; lists the rows that differ (cells, payments), with both values',
  async run(context, [name], options) {
    const definition = definitionOf(name!);
    const projection = definition.name;
    const synopsis = 'projections diff PROJECTION --from N --to M';
    const from = positiveInt(options, 'from', synopsis);
    const to = positiveInt(options, 'to', synopsis);
    const limit = options.limit === undefined ? 50 : positiveInt(options, 'limit', '--limit N');
    const pool = createPool({ connectionString: context.databaseUrl(), max: 1, applicationName: 'ops-diff' });
    try {
      const [a, b] = [await findVersion(pool, projection, from), await findVersion(pool, projection, to)];
      if (!a || !b) throw new OpsError(`no ${projection} v${a ? to : from}`);
      const result = await definition.diff(pool, a, b, {
        merchantId: options.merchant, from: instant(options, 'from-time'), to: instant(options, 'to-time'), limit,
      });
      printDiff(context.out, from, to, result);
    } finally {
      await pool.end();
    }
  },
};
