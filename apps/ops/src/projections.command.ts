import { dropVersion, projectionStatus, promoteVersion, rollbackVersion, type SqlClient, type VersionLag, type VersionStatusReport } from '@app/projections';
import { CompiledQuery } from 'kysely';
import { formatTable, type CommandGroup, type OpsCommand, type OpsContext } from './cli.js';
import { maxLagOf, positiveInt, projectionOf } from './projection-arguments.js';
import { diff, rebuild } from './projections-rebuild.command.js';

/**
 * Promote, rollback and drop are transactions: the registry functions need one
 * connection for their whole run, taken here from the CLI's pool.
 */
async function withConnection<T>(context: OpsContext, work: (client: SqlClient) => Promise<T>): Promise<T> {
  const db = await context.db();
  return db.connection().execute((connection) =>
    work({
      query: async <R>(text: string, values: unknown[] = []) => ({
        rows: (await connection.executeQuery<R>(CompiledQuery.raw(text, values))).rows,
      }),
    }),
  );
}

const time = (d: Date | null) => (d ? `${d.toISOString().slice(0, 19)}Z` : '-');
const seconds = (s: number) => (Number.isFinite(s) ? s.toFixed(1) : '?');

/**
 * Share of the store's events the version has applied: its checkpoints over
 * the partitions' heads. Exact, because positions within a partition are
 * gapless from 1, so a checkpoint counts the events applied up to it. Rounded
 * down, so 100.0% means every event.
 */
function progress(lag: VersionLag): string {
  if (lag.storedEvents === 0) return '100.0%';
  return `${(Math.floor(((lag.storedEvents - lag.events) * 1000) / lag.storedEvents) / 10).toFixed(1)}%`;
}

function listRows(reports: VersionStatusReport[]): string[][] {
  return reports.map((r) => [
    r.projection,
    String(r.version),
    r.status,
    r.live ? '*' : '',
    r.engine,
    String(r.eventsApplied),
    progress(r.lag),
    String(r.lag.events),
    seconds(r.lag.seconds),
    r.codeRevision,
    time(r.startedAt),
    time(r.finishedAt),
  ]);
}

const list: OpsCommand = {
  name: 'list',
  args: [],
  summary:
    'every projection version: status, live (*), events applied, PROGRESS (share of the store applied: its checkpoints ' +
    'over the partition heads, exact as positions are gapless), lag in events and seconds, code revision',
  async run(context) {
    const reports = await withConnection(context, projectionStatus);
    if (reports.length === 0) {
      context.out('no projection versions yet (the projector installs its version when it first starts)');
      return;
    }
    const header = ['PROJECTION', 'VERSION', 'STATUS', 'LIVE', 'ENGINE', 'EVENTS', 'PROGRESS', 'LAG_EVENTS', 'LAG_S', 'REVISION', 'STARTED', 'FINISHED'];
    for (const line of formatTable(header, listRows(reports))) context.out(line);
  },
};

const promote: OpsCommand = {
  name: 'promote',
  args: ['PROJECTION'],
  options: { version: 'N', 'max-lag': 'SECONDS' },
  summary: 'make version N (required) live once its lag is under --max-lag seconds (default 5)',
  async run(context, [name], options) {
    const projection = projectionOf(name!);
    const version = positiveInt(options, 'version', 'projections promote PROJECTION --version N');
    const maxLagSeconds = maxLagOf(options);
    const result = await withConnection(context, (client) => promoteVersion(client, projection, version, { maxLagSeconds }));
    const was = result.previousVersion === null ? 'none was live' : `was v${result.previousVersion}, kept for rollback`;
    context.out(`${projection} v${result.version} is live (${was}); the analytics views switched with it`);
  },
};

const rollback: OpsCommand = {
  name: 'rollback',
  args: ['PROJECTION'],
  options: { 'max-lag': 'SECONDS' },
  summary: 'make the previous live version live again (same catch-up rule as promote)',
  async run(context, [name], options) {
    const projection = projectionOf(name!);
    const maxLagSeconds = maxLagOf(options);
    const result = await withConnection(context, (client) => rollbackVersion(client, projection, { maxLagSeconds }));
    context.out(`${projection} v${result.version} is live again (rolled back from v${result.previousVersion}); the analytics views switched with it`);
  },
};

const drop: OpsCommand = {
  name: 'drop',
  args: ['PROJECTION'],
  options: { version: 'N' },
  summary: 'drop version N (required): its tables and registry rows; refuses the live version',
  async run(context, [name], options) {
    const projection = projectionOf(name!);
    const version = positiveInt(options, 'version', 'projections drop PROJECTION --version N');
    const result = await withConnection(context, (client) => dropVersion(client, projection, version));
    context.out(`dropped ${projection} v${version}: schema ${result.schemaName}, its checkpoints, members and leases`);
    if (result.leaseOwners.length > 0) {
      context.out(`note: projector(s) ${result.leaseOwners.join(', ')} still held leases on v${version}; stop them, their writes now fail`);
    }
  },
};

/** Read-model versions. `rebuild` and `diff` join between list and promote. */
export const projectionsCommands: CommandGroup = {
  name: 'projections',
  summary: 'read-model versions and which one is live',
  commands: [list, rebuild, diff, promote, rollback, drop],
};
