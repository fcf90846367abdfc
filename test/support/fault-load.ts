import type pg from 'pg';
import type { PaymentEventJson } from '../../libs/projections/src/payment-event.json.js';

const RECORD_PATH = '/payments.v1.PaymentEventService/RecordPaymentEvents';
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the producers saw, counted at the client: a load balancer's or a library's retries would hide failures. */
export interface ProducerReport {
  acknowledged: PaymentEventJson[];
  failedRequests: number;
  /** The first failures' messages, with when they happened. */
  failures: string[];
  /** Longest time between two acknowledged requests, ms. */
  longestGapMs: number;
}

/**
 * Producers as real ones behave: each sends a batch and, until it is
 * acknowledged, sends the same batch again (the command API answers a
 * repeat as duplicates), then the next; until `stop()`. `batches(p, k)` is
 * producer p's k-th batch.
 */
export function producers(url: string, key: string, count: number, batches: (p: number, k: number) => PaymentEventJson[]) {
  let stopped = false;
  const report: ProducerReport = { acknowledged: [], failedRequests: 0, failures: [], longestGapMs: 0 };
  let lastAck = performance.now();
  const loops = Array.from({ length: count }, async (_, p) => {
    for (let k = 0; !stopped; k++) {
      const events = batches(p, k);
      for (;;) {
        const ok = await fetch(`${url}${RECORD_PATH}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ events }),
          signal: AbortSignal.timeout(10_000),
        }).then(
          (r) => r.status === 200 || `HTTP ${r.status}`,
          (error: Error & { cause?: { code?: string } }) => `${error.message}${error.cause?.code ? ` (${error.cause.code})` : ''}`,
        );
        if (ok === true) break;
        report.failedRequests++;
        if (report.failures.length < 5) report.failures.push(`${ok} at ${new Date().toISOString()}`);
        await pause(100);
      }
      const now = performance.now();
      report.longestGapMs = Math.max(report.longestGapMs, now - lastAck);
      lastAck = now;
      report.acknowledged.push(...events);
      await pause(20);
    }
  });
  return {
    report,
    resetGap: () => { report.longestGapMs = 0; lastAck = performance.now(); },
    stop: async () => { stopped = true; await Promise.all(loops); return report; },
  };
}

/** Producer p's k-th batch of `size` events out of `all`, no two batches sharing an event (while they last). */
export function disjointBatches(all: readonly PaymentEventJson[], producerCount: number, size: number) {
  return (p: number, k: number) => {
    const start = ((producerCount * k + p) * size) % all.length;
    return all.slice(start, start + size);
  };
}

/** One merchant's answer, as a querier got it. */
export interface Answer {
  merchantId: string;
  /** completed payments of the whole window, one currency. */
  transactionCount: number;
  asOf: Date;
  lagSeconds: number;
  replicaLagSeconds: number | null;
  /** When the request was sent and the answer came, by this process's clock (the database's too: one machine). */
  sentAt: Date;
  receivedAt: Date;
}

export interface QueryReport {
  answers: Answer[];
  failedQueries: number;
  /** The first failures' messages, for the test's report. */
  failures: string[];
  longestGapMs: number;
}

const METRICS_QUERY = `query Q($merchantId: ID!, $from: DateTime!, $to: DateTime!) {
  merchantMetrics(merchantId: $merchantId, from: $from, to: $to, granularity: MONTH, timeZone: "UTC") {
    freshness { asOf lagSeconds replicaLagSeconds }
    totals { currency transactionCount }
  }
}`;

/**
 * Merchants asking for their totals over GraphQL, one after another, until
 * `stop()`: `token(merchantId)` signs each one's token. A query fails when
 * the answer is not 200 with data (counted, never retried).
 */
export function queriers(url: string, merchants: readonly { merchantId: string; token: string }[], count: number, window: { from: Date; to: Date }) {
  let stopped = false;
  const report: QueryReport = { answers: [], failedQueries: 0, failures: [], longestGapMs: 0 };
  let lastAnswer = performance.now();
  const loops = Array.from({ length: count }, async (_, q) => {
    for (let i = q; !stopped; i += count) {
      const { merchantId, token } = merchants[i % merchants.length]!;
      const sentAt = new Date();
      try {
        const res = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: METRICS_QUERY, variables: { merchantId, from: window.from.toISOString(), to: window.to.toISOString() } }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await res.json()) as { data?: { merchantMetrics: { freshness: { asOf: string; lagSeconds: number; replicaLagSeconds: number | null }; totals: { transactionCount: number }[] } }; errors?: unknown };
        const m = body.data?.merchantMetrics;
        if (res.status !== 200 || !m || body.errors) throw new Error(`HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
        const now = performance.now();
        report.longestGapMs = Math.max(report.longestGapMs, now - lastAnswer);
        lastAnswer = now;
        report.answers.push({
          merchantId, transactionCount: m.totals.reduce((n, t) => n + t.transactionCount, 0), asOf: new Date(m.freshness.asOf),
          lagSeconds: m.freshness.lagSeconds, replicaLagSeconds: m.freshness.replicaLagSeconds, sentAt, receivedAt: new Date(),
        });
      } catch (error) {
        report.failedQueries++;
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        if (report.failures.length < 5) report.failures.push(`${(error as Error).message}${cause ? ` (${cause.code ?? ''} ${cause.message ?? ''})` : ''} at ${new Date().toISOString()}`);
        await pause(100);
      }
      await pause(25);
    }
  });
  return {
    report,
    resetGap: () => { report.longestGapMs = 0; lastAnswer = performance.now(); },
    stop: async () => { stopped = true; await Promise.all(loops); return report; },
  };
}

/**
 * Answers that broke freshness's promise, checked against the store: an
 * answer must count every completed payment of its merchant recorded before
 * asOf (less `slackMs`: recorded_at is when the append's transaction began,
 * which may commit a moment later), and none recorded after the answer came.
 */
export async function wrongAnswers(pool: pg.Pool, answers: readonly Answer[], slackMs = 1000): Promise<string[]> {
  const wrong: string[] = [];
  for (let i = 0; i < answers.length; i += 500) {
    const chunk = answers.slice(i, i + 500);
    const { rows } = await pool.query<{ i: number; lower: number; upper: number }>(
      `select a.i::int, (select count(*) from event_store.events e where e.merchant_id = a.m and e.event_type = 'payment_completed' and e.recorded_at < a.as_of - $4::int * interval '1 millisecond')::int as lower,
              (select count(*) from event_store.events e where e.merchant_id = a.m and e.event_type = 'payment_completed' and e.recorded_at <= a.received)::int as upper
         from unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) with ordinality as a(m, as_of, received, i)`,
      [chunk.map((a) => a.merchantId), chunk.map((a) => a.asOf), chunk.map((a) => a.receivedAt), slackMs],
    );
    for (const r of rows) {
      const a = chunk[r.i - 1]!;
      if (a.transactionCount < r.lower || a.transactionCount > r.upper) {
        wrong.push(`${a.merchantId} at ${a.receivedAt.toISOString()}: ${a.transactionCount} completed payments, but ${r.lower} were recorded before asOf ${a.asOf.toISOString()} and ${r.upper} before the answer`);
      }
    }
  }
  return wrong;
}
