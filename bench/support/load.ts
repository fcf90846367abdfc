import http from 'node:http';
import { EventFactory } from './workload.js';

export const RECORD_PATH = '/payments.v1.PaymentEventService/RecordPaymentEvents';

/**
 * Request bodies built before the timed window. When they run out (the API
 * was faster than the estimate) more are generated on the spot, and counted,
 * because that generation then competes with the system under test for CPU.
 */
export class BodySource {
  private next = 0;
  private readonly retries: Buffer[] = [];
  generatedLate = 0;

  constructor(private readonly prebuilt: Buffer[], private readonly factory: EventFactory, private readonly batch: number) {}

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
    return this.factory.nextBody(this.batch);
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

interface Response {
  status: number;
  body: string;
}

/**
 * K producers, each with one request in flight at a time over its own
 * keep-alive connection, sending pre-built batches as fast as the API answers.
 */
export class LoadGenerator {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;
  private readonly headers: Record<string, string>;
  private stopping = false;
  private loops: Promise<void>[] = [];
  private windowStart = Infinity;
  private windowEnd = Infinity;
  readonly total = emptyCounts();
  readonly window = emptyCounts();
  /** The first few non-200, non-429 answers, for the report. */
  readonly errorSamples: string[] = [];

  constructor(baseUrl: string, key: string, private readonly producers: number, private readonly bodies: BodySource) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: producers, maxFreeSockets: producers });
    this.headers = { 'content-type': 'application/json', 'connect-protocol-version': '1', authorization: `Bearer ${key}` };
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
    this.agent.destroy();
  }

  private async produce(): Promise<void> {
    while (!this.stopping) {
      const body = this.bodies.take();
      const started = performance.now();
      let response: Response;
      try {
        response = await this.post(body);
      } catch (error) {
        response = { status: 0, body: (error as Error).message };
      }
      const finished = performance.now();
      const inWindow = finished >= this.windowStart && finished <= this.windowEnd;
      for (const counts of inWindow ? [this.total, this.window] : [this.total]) this.count(counts, response, finished - started);
      if (response.status === 429) {
        this.bodies.giveBack(body);
        await sleep(10);
      } else if (response.status !== 200) {
        if (this.errorSamples.length < 5) this.errorSamples.push(`${response.status} ${response.body.slice(0, 200)}`);
        await sleep(100);
      }
    }
  }

  private count(counts: PhaseCounts, response: Response, latencyMs: number): void {
    if (response.status === 200) {
      const answer = JSON.parse(response.body) as { accepted?: number; duplicates?: number };
      counts.ok++;
      counts.accepted += answer.accepted ?? 0;
      counts.duplicates += answer.duplicates ?? 0;
      counts.latenciesMs.push(latencyMs);
    } else if (response.status === 429) {
      counts.exhausted++;
    } else {
      counts.other++;
    }
  }

  private post(body: Buffer): Promise<Response> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        { host: this.host, port: this.port, path: RECORD_PATH, method: 'POST', agent: this.agent, headers: { ...this.headers, 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      request.setTimeout(120_000, () => request.destroy(new Error('request timed out after 120 s')));
      request.on('error', reject);
      request.end(body);
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index];
}
