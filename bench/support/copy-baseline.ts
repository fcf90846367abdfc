import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { partitionOf } from '@app/event-store';
import { validateRecordRequest } from '@app/payments';
import { cpuBetween, cpuSnapshot, postgresRoles, type CpuUsage, type CpuWatch } from './cpu.js';
import type { WaitSampler } from './waits.js';
import { EventFactory } from './workload.js';

export interface CopyResult {
  rows: number;
  statements: number;
  seconds: number;
  rowsPerSecond: number;
  /** Rows/s of the slowest and fastest statement. */
  slowest: number;
  fastest: number;
  walBytesPerRow: number;
  payloadBytesPerRow: number;
  cpu: CpuUsage;
  /** What the COPY backend was doing (share of samples), when sampled. */
  waits: Array<[string, number]>;
}

const CHUNK_BYTES = 64 * 1024;

/**
 * Raw COPY of event rows into event_store.events: the same rows the API
 * would store (the payload is the validator's canonical JSON of generated
 * events, the partition comes from partitionOf, positions count up per
 * partition), from one client. The rows are built before the clock starts,
 * so only the COPY itself is timed. Runs in a database of its own.
 */
export async function copyBaseline(
  url: string, rows: number, statements: number, merchants: number, partitions: number, watch: CpuWatch,
  sampler?: WaitSampler,
): Promise<CopyResult> {
  const texts = buildCopyText(rows, statements, merchants, partitions);
  const payloadBytes = texts.payloadBytes;

  const client = new pg.Client({ connectionString: url, application_name: 'bench-copy' });
  await client.connect();
  try {
    const roles = await postgresRoles(client);
    const walBefore = await walLsn(client);
    sampler?.begin();
    const cpuBefore = cpuSnapshot(watch);
    const started = performance.now();
    const rates: number[] = [];
    for (const { chunks, rows: n } of texts.statements) {
      const t0 = performance.now();
      const stream = client.query(copyFrom(
        `copy event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload) from stdin`,
      ));
      await pipeline(Readable.from(chunks), stream);
      rates.push(n / ((performance.now() - t0) / 1000));
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuBetween(cpuBefore, cpuSnapshot(watch), roles);
    sampler?.end();
    const walBytes = await walBytesSince(client, walBefore);
    // Leave the copied database consistent: heads at the last copied positions.
    await client.query(
      `update event_store.partition_heads h set head = v.head
       from unnest($1::int2[], $2::int8[]) v(p, head) where h.partition = v.p`,
      [texts.heads.map((_, p) => p), texts.heads],
    );
    return {
      rows,
      statements,
      seconds,
      rowsPerSecond: rows / seconds,
      slowest: Math.min(...rates),
      fastest: Math.max(...rates),
      walBytesPerRow: walBytes / rows,
      payloadBytesPerRow: payloadBytes / rows,
      cpu,
      waits: sampler?.summary('bench-copy') ?? [],
    };
  } finally {
    await client.end();
  }
}

export async function walLsn(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ lsn: string }>(`select pg_current_wal_lsn()::text as lsn`);
  return rows[0].lsn;
}

export async function walBytesSince(client: pg.Client, lsn: string): Promise<number> {
  const { rows } = await client.query<{ bytes: string }>(`select pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text as bytes`, [lsn]);
  return Number(rows[0].bytes);
}

interface CopyText {
  statements: Array<{ rows: number; chunks: Buffer[] }>;
  heads: number[];
  payloadBytes: number;
}

function buildCopyText(rows: number, statements: number, merchants: number, partitions: number): CopyText {
  const factory = new EventFactory(merchants, 0xc0ffee);
  const heads = new Array<number>(partitions).fill(0);
  const now = new Date();
  const out: CopyText['statements'] = [];
  let payloadBytes = 0;
  let left = rows;
  for (let s = 0; s < statements; s++) {
    const n = Math.ceil(left / (statements - s));
    left -= n;
    const chunks: Buffer[] = [];
    let pending: string[] = [];
    let pendingBytes = 0;
    for (let done = 0; done < n; done += 1000) {
      const size = Math.min(1000, n - done);
      const events = new Array<string>(size);
      for (let i = 0; i < size; i++) events[i] = factory.nextJson();
      const result = validateRecordRequest(JSON.parse(`{"events":[${events.join(',')}]}`), { now, maxFutureSkewMs: 300_000 });
      if (!result.ok) throw new Error(`generated events are invalid: ${JSON.stringify(result.errors.slice(0, 3))}`);
      for (const e of result.events) {
        const p = partitionOf(e.merchantId, partitions);
        const line = `${p}\t${++heads[p]}\t${e.eventId}\t${copyEscape(e.merchantId)}\t${e.type}\t${e.occurredAt}\t${copyEscape(e.canonicalJson)}\n`;
        payloadBytes += e.canonicalJson.length;
        pending.push(line);
        pendingBytes += line.length;
        if (pendingBytes >= CHUNK_BYTES) {
          chunks.push(Buffer.from(pending.join(''), 'utf8'));
          pending = [];
          pendingBytes = 0;
        }
      }
    }
    if (pending.length > 0) chunks.push(Buffer.from(pending.join(''), 'utf8'));
    out.push({ rows: n, chunks });
  }
  return { statements: out, heads, payloadBytes };
}

/** COPY text format: backslash, tab, newline and carriage return are escaped. */
function copyEscape(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : value;
}
