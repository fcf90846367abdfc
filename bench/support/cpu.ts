import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

/** Clock ticks per second of /proc times (USER_HZ; 100 on Linux everywhere that matters). */
const HZ = 100;

interface ProcStat {
  ppid: number;
  /** utime + stime, seconds. */
  self: number;
  /** cutime + cstime (waited-for children), seconds. */
  children: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), self: (Number(f[11]) + Number(f[12])) / HZ, children: (Number(f[13]) + Number(f[14])) / HZ };
  } catch {
    return undefined;
  }
}

function childrenOf(parent: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat?.ppid === parent) pids.push(Number(name));
  }
  return pids;
}

/** Busy and total CPU seconds of the whole machine, from /proc/stat. */
function machine(): { busy: number; total: number; iowait: number; softirq: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0) / HZ;
  const idle = (v[3] + v[4]) / HZ;
  return { busy: total - idle, total, iowait: v[4] / HZ, softirq: (v[5] + v[6]) / HZ, steal: v[7] / HZ };
}

/** CPU seconds of every process on the machine, by pid, with its command name and parent. */
function allProcesses(): Map<number, { comm: string; self: number; ppid: number }> {
  const out = new Map<number, { comm: string; self: number; ppid: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out.set(Number(name), { comm, self: (Number(f[11]) + Number(f[12])) / HZ, ppid: Number(f[1]) });
    } catch {
      // Gone.
    }
  }
  return out;
}

/** A process and all its descendants: the root's own and reaped children's time, and each live descendant's. */
interface TreeTimes {
  root: number;
  descendants: Map<number, number>;
}

function treeTimes(rootPid: number | undefined, all: Map<number, { self: number; ppid: number }>): TreeTimes {
  const descendants = new Map<number, number>();
  if (rootPid === undefined) return { root: 0, descendants };
  const stat = readStat(rootPid);
  const inTree = new Set([rootPid]);
  // Parents have lower pids only usually; iterate until no more are found.
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of all) {
      if (!inTree.has(pid) && inTree.has(p.ppid)) {
        inTree.add(pid);
        descendants.set(pid, p.self);
        grew = true;
      }
    }
  }
  return { root: stat ? stat.self + stat.children : 0, descendants };
}

/** CPU seconds a process tree used between two snapshots, counting descendants that started or exited in between. */
function treeDelta(a: TreeTimes, b: TreeTimes): number {
  let total = b.root - a.root;
  for (const [pid, time] of b.descendants) total += time - (a.descendants.get(pid) ?? 0);
  // An exited child's whole time moved into its parent's reaped time; its earlier share was counted in a.
  for (const [pid, time] of a.descendants) if (!b.descendants.has(pid)) total -= time;
  return total;
}

export interface CpuSnapshot {
  at: number;
  machine: { busy: number; total: number; iowait: number; softirq: number; steal: number };
  /** The API process and its workers (node:cluster), if any. */
  api: TreeTimes;
  nats: number;
  bench: number;
  /** Postmaster (own and reaped children's time) plus each live child, seconds. */
  pgPostmaster: number;
  pgChildren: Map<number, number>;
  all: Map<number, { comm: string; self: number; ppid: number }>;
  /** The benchmark's own processes (API, nats-server, postmaster). */
  own: number[];
}

export interface CpuWatch {
  postmasterPid: number;
  apiPid?: number;
  natsPid: number;
}

export function cpuSnapshot(watch: CpuWatch): CpuSnapshot {
  const postmaster = readStat(watch.postmasterPid);
  const pgChildren = new Map<number, number>();
  for (const pid of childrenOf(watch.postmasterPid)) {
    const stat = readStat(pid);
    if (stat) pgChildren.set(pid, stat.self);
  }
  const usage = process.cpuUsage();
  const all = allProcesses();
  const api = treeTimes(watch.apiPid, all);
  return {
    at: performance.now(),
    machine: machine(),
    api,
    nats: readStat(watch.natsPid)?.self ?? 0,
    bench: (usage.user + usage.system) / 1e6,
    pgPostmaster: postmaster ? postmaster.self + postmaster.children : 0,
    pgChildren,
    all,
    own: [watch.postmasterPid, watch.natsPid, ...(watch.apiPid ? [watch.apiPid, ...api.descendants.keys()] : [])],
  };
}

/** What each PostgreSQL process is, by pid, from pg_stat_activity. */
export async function postgresRoles(client: pg.Client | pg.Pool): Promise<Map<number, string>> {
  const { rows } = await client.query<{ pid: number; backend_type: string; application_name: string }>(
    `select pid, backend_type, application_name from pg_stat_activity`,
  );
  return new Map(rows.map((r) => [r.pid, roleOf(r.backend_type, r.application_name)]));
}

function roleOf(backendType: string, applicationName: string): string {
  if (backendType === 'client backend') {
    if (applicationName === 'command-api') return 'ingest';
    if (applicationName === 'command-api-relay') return 'relay';
    if (applicationName === 'bench-copy') return 'copy';
    if (applicationName === 'projector') return 'projector';
    if (applicationName === 'query-api') return 'query';
    if (applicationName.startsWith('bench')) return 'bench observers';
    return 'other';
  }
  if (backendType === 'walwriter') return 'walwriter';
  if (backendType === 'checkpointer') return 'checkpointer';
  if (backendType === 'background writer') return 'bgwriter';
  if (backendType.startsWith('autovacuum')) return 'autovacuum';
  if (backendType.startsWith('io worker')) return 'io';
  return 'other';
}

export interface CpuUsage {
  seconds: number;
  /** CPU seconds per wall second ("cores used"), per process group. */
  cores: {
    postgres: number; api: number; nats: number; bench: number;
    /** Busy time no process of the benchmark accounts for: other processes, and kernel interrupt work. */
    other: number;
    machineBusy: number; machineIdle: number;
    /** Part of machineIdle spent waiting for I/O (fsync), and interrupt time (part of machineBusy). */
    iowait: number; softirq: number;
    /** Time the hypervisor gave to other guests (part of machineBusy). */
    steal: number;
  };
  /** The busiest processes outside the benchmark (concurrent work on the machine skews the figures). */
  others: Array<[string, number]>;
  /** Postgres cores by process role (ingest backends, relay backends, walwriter, …). */
  postgresByRole: Record<string, number>;
}

export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, roles: Map<number, string>): CpuUsage {
  const seconds = (b.at - a.at) / 1000;
  const byRole: Record<string, number> = {};
  let pg = b.pgPostmaster - a.pgPostmaster;
  // Time of children that exited in between is in the postmaster's reaped-children time.
  byRole.exited = pg;
  for (const [pid, time] of b.pgChildren) {
    const delta = time - (a.pgChildren.get(pid) ?? 0);
    pg += delta;
    const role = roles.get(pid) ?? 'other';
    byRole[role] = (byRole[role] ?? 0) + delta;
  }
  for (const [pid, time] of a.pgChildren) {
    // Exited children: their last sampled time is already counted in a, and their total
    // moved into the postmaster's reaped time; subtract what was counted before.
    if (!b.pgChildren.has(pid)) { pg -= time; byRole.exited -= time; }
  }
  const cores = (x: number) => x / seconds;
  const cpus = (b.machine.total - a.machine.total) / seconds;
  const busy = cores(b.machine.busy - a.machine.busy);
  const postgresByRole: Record<string, number> = {};
  for (const [role, value] of Object.entries(byRole)) if (Math.abs(value) >= 0.005 * seconds) postgresByRole[role] = cores(value);
  const apiSeconds = treeDelta(a.api, b.api);
  const known = new Set<number>([process.pid, ...a.own, ...b.own, ...b.pgChildren.keys(), ...a.pgChildren.keys()]);
  const attributed = cores(pg) + cores(apiSeconds) + cores(b.nats - a.nats) + cores(b.bench - a.bench);
  const others: Array<[string, number]> = [];
  for (const [pid, p] of b.all) {
    if (known.has(pid) || p.comm === 'postgres' || p.comm === 'nats-server') continue;
    const delta = cores(p.self - (a.all.get(pid)?.self ?? 0));
    if (delta >= 0.02) others.push([`${p.comm}[${pid}]`, delta]);
  }
  others.sort((x, y) => y[1] - x[1]);
  return {
    seconds,
    cores: {
      postgres: cores(pg), api: cores(apiSeconds), nats: cores(b.nats - a.nats), bench: cores(b.bench - a.bench),
      other: Math.max(0, busy - attributed), machineBusy: busy, machineIdle: cpus - busy,
      iowait: cores(b.machine.iowait - a.machine.iowait), softirq: cores(b.machine.softirq - a.machine.softirq),
      steal: cores(b.machine.steal - a.machine.steal),
    },
    others: others.slice(0, 4),
    postgresByRole,
  };
}
