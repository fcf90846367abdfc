import http from 'node:http';
import http2 from 'node:http2';
import { fromBinary } from '@bufbuild/protobuf';
import { RecordPaymentEventsResponseSchema } from '@app/contracts';
import { EventFactory } from './workload.js';

export const RECORD_PATH = '/payments.v1.PaymentEventService/RecordPaymentEvents';

/**
 * How the load reaches the command API: `connect`, JSON over HTTP/1.1 (what the benches always
 * sent); `connect-proto`, the same events in binary protobuf (`application/proto`); `grpc`, binary
 * protobuf in a gRPC frame over HTTP/2 on the gRPC port, one connection per producer.
 */
export type Protocol = 'connect' | 'connect-proto' | 'grpc';
export const PROTOCOLS: readonly Protocol[] = ['connect', 'connect-proto', 'grpc'];

/**
 * Request bodies built before the timed window. When they run out (the API
 * was faster than the estimate) more are generated on the spot, and counted,
 * because that generation then competes with the system under test for CPU.
 */
export class BodySource {
  private next = 0;
  private readonly retries: Buffer[] = [];
  generatedLate = 0;

  constructor(
    private readonly prebuilt: Buffer[],
    private readonly factory: EventFactory,
    private readonly batch: number,
    private readonly encode: (json: Buffer) => Buffer = (json) => json,
  ) {}

  /** `seed`: sources used in one run need seeds of their own, or their event ids repeat. */
  static prebuild(count: number, batch: number, merchants: number, occurredWithinMs?: number, seed = 0xbeef): BodySource {
    const factory = new EventFactory(merchants, seed, occurredWithinMs);
    const bodies = new Array<Buffer>(count);
    for (let i = 0; i < count; i++) bodies[i] = factory.nextBody(batch);
    return new BodySource(bodies, factory, batch);
  }

  get prebuiltCount(): number {
    return this.prebuilt.length;
  }

  /**
   * The same pre-built events, each body re-encoded (before any is taken; bodies made late are
   * encoded as they are made), so that several protocols can be sent the same events.
   */
  encoded(encode: (json: Buffer) => Buffer): BodySource {
    if (this.next > 0) throw new Error('encoded() must be called before any body is taken');
    return new BodySource(this.prebuilt.map(encode), this.factory, this.batch, encode);
  }

  take(): Buffer {
    const retry = this.retries.pop();
    if (retry) return retry;
    if (this.next < this.prebuilt.length) {
      const body = this.prebuilt[this.next];
      // Drop the reference: sent bodies need not stay in memory.
      this.prebuilt[this.next++] = EMPTY;
      return body;
    }
    this.generatedLate++;
    return this.encode(this.factory.nextBody(this.batch));
  }

  /** A body refused with resource_exhausted (nothing stored) is sent again. */
  giveBack(body: Buffer): void {
    this.retries.push(body);
  }
}

const EMPTY = Buffer.alloc(0);

export interface PhaseCounts {
  ok: number;
  exhausted: number;
  other: number;
  accepted: number;
  duplicates: number;
  latenciesMs: number[];
}

function emptyCounts(): PhaseCounts {
  return { ok: 0, exhausted: 0, other: 0, accepted: 0, duplicates: 0, latenciesMs: [] };
}

/** What one request came to: `exhausted` (resource_exhausted, nothing stored) is sent again. */
interface Response {
  outcome: 'ok' | 'exhausted' | 'other';
  accepted: number;
  duplicates: number;
  /** For the report, when it is `other`. */
  detail: string;
}

type Sender = (body: Buffer) => Promise<Response>;

/**
 * K producers, each with one request in flight at a time over its own
 * keep-alive connection, sending pre-built batches as fast as the API answers.
 * `url` is the Connect port's for `connect` and `connect-proto`, the gRPC port's for `grpc`.
 */
export class LoadGenerator {
  private readonly send: Sender;
  private readonly closeTransport: () => void;
  private stopping = false;
  private loops: Promise<void>[] = [];
  private windowStart = Infinity;
  private windowEnd = Infinity;
  readonly total = emptyCounts();
  readonly window = emptyCounts();
  /** The first few non-200, non-429 answers, for the report. */
  readonly errorSamples: string[] = [];

  constructor(baseUrl: string, key: string, private readonly producers: number, private readonly bodies: BodySource, protocol: Protocol = 'connect') {
    const transport = protocol === 'grpc' ? grpcSender(baseUrl, key) : connectSender(baseUrl, key, producers, protocol === 'connect-proto');
    this.send = transport.send;
    this.closeTransport = transport.close;
  }

  start(): void {
    this.loops = Array.from({ length: this.producers }, () => this.produce());
  }

  /** Requests that complete from now on (until markWindowEnd) are the window's. */
  markWindowStart(): void {
    this.windowStart = performance.now();
  }

  markWindowEnd(): void {
    this.windowEnd = performance.now();
  }

  /** Stops sending and waits for the requests in flight. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    this.closeTransport();
  }

  private async produce(): Promise<void> {
    while (!this.stopping) {
      const body = this.bodies.take();
      const started = performance.now();
      let response: Response;
      try {
        response = await this.send(body);
      } catch (error) {
        response = { outcome: 'other', accepted: 0, duplicates: 0, detail: (error as Error).message };
      }
      const finished = performance.now();
      const inWindow = finished >= this.windowStart && finished <= this.windowEnd;
      for (const counts of inWindow ? [this.total, this.window] : [this.total]) this.count(counts, response, finished - started);
      if (response.outcome === 'exhausted') {
        this.bodies.giveBack(body);
        await sleep(10);
      } else if (response.outcome === 'other') {
        if (this.errorSamples.length < 5) this.errorSamples.push(response.detail.slice(0, 200));
        await sleep(100);
      }
    }
  }

  private count(counts: PhaseCounts, response: Response, latencyMs: number): void {
    if (response.outcome === 'ok') {
      counts.ok++;
      counts.accepted += response.accepted;
      counts.duplicates += response.duplicates;
      counts.latenciesMs.push(latencyMs);
    } else if (response.outcome === 'exhausted') {
      counts.exhausted++;
    } else {
      counts.other++;
    }
  }
}

/** Connect unary over HTTP/1.1 keep-alive connections, one per producer. */
function connectSender(baseUrl: string, key: string, producers: number, binary: boolean): { send: Sender; close(): void } {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: producers, maxFreeSockets: producers });
  const headers = { 'content-type': binary ? 'application/proto' : 'application/json', 'connect-protocol-version': '1', authorization: `Bearer ${key}` };
  const send: Sender = (body) => new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: Number(url.port), path: RECORD_PATH, method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const answer = Buffer.concat(chunks);
          if (res.statusCode === 200) {
            const counts = binary ? fromBinary(RecordPaymentEventsResponseSchema, answer) : (JSON.parse(answer.toString('utf8')) as { accepted?: number; duplicates?: number });
            resolve({ outcome: 'ok', accepted: counts.accepted ?? 0, duplicates: counts.duplicates ?? 0, detail: '' });
          } else {
            resolve({ outcome: res.statusCode === 429 ? 'exhausted' : 'other', accepted: 0, duplicates: 0, detail: `${res.statusCode} ${answer.toString('utf8')}` });
          }
        });
        res.on('error', reject);
      },
    );
    request.setTimeout(120_000, () => request.destroy(new Error('request timed out after 120 s')));
    request.on('error', reject);
    request.end(body);
  });
  return { send, close: () => agent.destroy() };
}

/**
 * Unary gRPC calls over HTTP/2, as a gRPC client library makes them (the bodies are framed
 * already), on one connection per producer: a pool of sessions taken in turn, each producer
 * keeping one call in flight.
 */
function grpcSender(baseUrl: string, key: string): { send: Sender; close(): void } {
  const idle: http2.ClientHttp2Session[] = [];
  const all = new Set<http2.ClientHttp2Session>();
  const session = () => {
    const open = idle.pop();
    if (open && !open.closed && !open.destroyed) return open;
    const created = http2.connect(baseUrl);
    created.on('error', () => undefined);
    created.on('close', () => all.delete(created));
    all.add(created);
    return created;
  };
  const send: Sender = (body) => new Promise((resolve, reject) => {
    const connection = session();
    const stream = connection.request({
      ':method': 'POST', ':path': RECORD_PATH, 'content-type': 'application/grpc', te: 'trailers', authorization: `Bearer ${key}`,
    });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = '';
    const take = (headers: http2.IncomingHttpHeaders) => {
      if (headers['grpc-status'] !== undefined) status = String(headers['grpc-status']);
      if (headers['grpc-message'] !== undefined) message = decodeURIComponent(String(headers['grpc-message']));
    };
    stream.setTimeout(120_000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      idle.push(connection);
      if (status === '0') {
        const counts = fromBinary(RecordPaymentEventsResponseSchema, Buffer.concat(chunks).subarray(5));
        resolve({ outcome: 'ok', accepted: counts.accepted, duplicates: counts.duplicates, detail: '' });
      } else {
        resolve({ outcome: status === '8' ? 'exhausted' : 'other', accepted: 0, duplicates: 0, detail: `grpc-status ${status ?? 'none'} ${message}` });
      }
    });
    stream.end(body);
  });
  return { send, close: () => { for (const s of all) s.close(); } };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index];
}
