import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { merchantPaymentsProjection, PAYMENTS_PROJECTION } from '@app/merchant-payments';
import { goLiveIfFirst, installVersion, readStoredEvents, type PaymentEventJson } from '@app/projections';
import { readPartitionCount } from '@app/event-store';
import { storeEvents } from '../../../libs/merchant-payments/src/testing/payment-lifecycles.js';
import { rest } from './rest/testing/rest-client.js';
import { startQueryApiHarness, type GraphqlResponse, type QueryApiHarness } from './testing/query-api-harness.js';

const M = 'm-pay';
const OTHER = 'm-pay-other';
const card = 'PAYMENT_METHOD_CARD';
const jpy = (minorUnits: number) => ({ currency: 'JPY', minorUnits: String(minorUnits) });
const completed = (merchantId: string, paymentId: string, at: string, amount: number, customerId: string, storeId: string, method = card): PaymentEventJson =>
  ({ eventId: randomUUID(), merchantId, occurredAt: at, paymentCompleted: { paymentId, customerId, storeId, method, amount: jpy(amount) } });
const refunded = (paymentId: string, at: string, amount: number, storeId: string): PaymentEventJson =>
  ({ eventId: randomUUID(), merchantId: M, occurredAt: at, paymentRefunded: { paymentId, refundId: `${paymentId}-r`, storeId, method: card, amount: jpy(amount) } });

/** Six payments of M, each state once, by hand; pB's refund is stored before its completion. */
const EVENTS: PaymentEventJson[] = [
  completed(M, 'pA', '2026-11-01T10:00:00Z', 1000, 'c-1', 's-1'),
  refunded('pA', '2026-11-02T10:00:00Z', 400, 's-1'),
  refunded('pB', '2026-11-03T09:00:00Z', 500, 's-2'),
  completed(M, 'pB', '2026-11-03T08:00:00Z', 500, 'c-2', 's-2', 'PAYMENT_METHOD_WALLET'),
  { eventId: randomUUID(), merchantId: M, occurredAt: '2026-11-04T10:00:00Z',
    paymentFailed: { paymentId: 'pC', customerId: 'c-1', storeId: 's-1', method: 'PAYMENT_METHOD_QR', amount: jpy(700), reason: 'declined' } },
  completed(M, 'pD', '2026-11-05T10:00:00Z', 300, 'c-1', 's-1'),
  refunded('pE', '2026-11-06T10:00:00Z', 200, 's-2'),
  completed(OTHER, 'pA', '2026-11-01T11:00:00Z', 999, 'c-9', 's-9'),
];

const PAYMENTS = `query($merchantId: ID!, $filter: PaymentFilter, $first: Int, $after: String) {
  payments(merchantId: $merchantId, filter: $filter, first: $first, after: $after) {
    nodes { paymentId status occurredAt amount refundedAmount refundCount customerId storeId method eventCount }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('payment search over GraphQL and REST', () => {
  let h: QueryApiHarness;
  let beforeLive: GraphqlResponse;

  beforeAll(async () => {
    h = await startQueryApiHarness();
    beforeLive = await h.graphql(PAYMENTS, { merchantId: M });
    await storeEvents(h.pool, EVENTS);
    const client = await h.pool.connect();
    try {
      const v1 = await installVersion(client, merchantPaymentsProjection, { version: 1, partitions: await readPartitionCount(h.pool), codeRevision: 'test' });
      const runtime = merchantPaymentsProjection.open(v1, { cacheBytes: 0 });
      const source = readStoredEvents(h.pool);
      for (let p = 0; p < (await readPartitionCount(h.pool)); p++) {
        const stored = await source.read(p, 0, 1000);
        if (stored.length > 0) await runtime.apply(client, p, 0, stored);
      }
      await goLiveIfFirst(client, PAYMENTS_PROJECTION, 1);
    } finally {
      client.release();
    }
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  const ids = (res: GraphqlResponse) => (res.body.data as { payments: { nodes: Array<{ paymentId: string }> } }).payments.nodes.map((n) => n.paymentId);

  it('answers UNAVAILABLE while no version of merchant-payments is live', () => {
    expect(beforeLive.body.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
  });

  it("lists a merchant's payments newest first, in their states, and pages with the cursor", async () => {
    const all = await h.graphql(PAYMENTS, { merchantId: M });
    expect(all.body.data).toEqual({
      payments: {
        nodes: [
          { paymentId: 'pE', status: 'REFUND_ONLY', occurredAt: '2026-11-06T10:00:00.000Z', amount: null, refundedAmount: '200', refundCount: 1, customerId: null, storeId: 's-2', method: 'CARD', eventCount: 1 },
          { paymentId: 'pD', status: 'COMPLETED', occurredAt: '2026-11-05T10:00:00.000Z', amount: '300', refundedAmount: '0', refundCount: 0, customerId: 'c-1', storeId: 's-1', method: 'CARD', eventCount: 1 },
          { paymentId: 'pC', status: 'FAILED', occurredAt: '2026-11-04T10:00:00.000Z', amount: '700', refundedAmount: '0', refundCount: 0, customerId: 'c-1', storeId: 's-1', method: 'QR', eventCount: 1 },
          { paymentId: 'pB', status: 'REFUNDED', occurredAt: '2026-11-03T08:00:00.000Z', amount: '500', refundedAmount: '500', refundCount: 1, customerId: 'c-2', storeId: 's-2', method: 'WALLET', eventCount: 2 },
          { paymentId: 'pA', status: 'PARTIALLY_REFUNDED', occurredAt: '2026-11-01T10:00:00.000Z', amount: '1000', refundedAmount: '400', refundCount: 1, customerId: 'c-1', storeId: 's-1', method: 'CARD', eventCount: 2 },
        ],
        pageInfo: { hasNextPage: false, endCursor: expect.any(String) },
      },
    });
    const first = await h.graphql(PAYMENTS, { merchantId: M, first: 2 });
    expect(ids(first)).toEqual(['pE', 'pD']);
    const cursor = (first.body.data as { payments: { pageInfo: { endCursor: string } } }).payments.pageInfo.endCursor;
    expect(ids(await h.graphql(PAYMENTS, { merchantId: M, first: 2, after: cursor }))).toEqual(['pC', 'pB']);
    expect(ids(await h.graphql(PAYMENTS, { merchantId: M, filter: { customerId: 'c-1' } }))).toEqual(['pD', 'pC', 'pA']);
    expect(ids(await h.graphql(PAYMENTS, { merchantId: M, filter: { customerId: 'c-1', minAmount: '500' } }))).toEqual(['pC', 'pA']);
    expect(ids(await h.graphql(PAYMENTS, { merchantId: M, filter: { status: 'REFUNDED' } }))).toEqual(['pB']);
    expect(ids(await h.graphql(PAYMENTS, { merchantId: M, filter: { from: '2026-11-03T00:00:00Z', to: '2026-11-05T00:00:00Z' } }))).toEqual(['pC', 'pB']);
    expect(ids(await h.graphql(PAYMENTS, { merchantId: OTHER }))).toEqual(['pA']);
  });

  it('refuses what no index serves, bad amounts and page sizes, with BAD_USER_INPUT', async () => {
    const refused = async (variables: Record<string, unknown>) => (await h.graphql(PAYMENTS, { merchantId: M, ...variables })).body.errors?.[0];
    expect(await refused({ filter: { storeId: 's-1', status: 'FAILED' } })).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringContaining('no index serves this filter (storeId and status together need customerId or paymentId)'),
    });
    expect(await refused({ filter: { minAmount: '1' } })).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(await refused({ filter: { customerId: 'c-1', minAmount: '-5' } })).toMatchObject({ message: 'minAmount must be an integer of minor units, like "1200"; got "-5"' });
    expect(await refused({ first: 101 })).toMatchObject({ message: 'first must be an integer from 1 to 100' });
  });

  it('shows one payment with its events from the store', async () => {
    const res = await h.graphql(`query { payment(merchantId: "${M}", paymentId: "pB") { paymentId status archivedEvents history { type occurredAt payloadJson } } }`);
    const stored = EVENTS.filter((e) => e.merchantId === M && (e.paymentCompleted ?? e.paymentRefunded)?.paymentId === 'pB');
    const payment = (res.body.data as { payment: { history: Array<{ payloadJson: string }> } }).payment;
    expect({ ...payment, history: payment.history.map((e) => ({ ...e, payloadJson: JSON.parse(e.payloadJson) })) }).toEqual({
      paymentId: 'pB', status: 'REFUNDED', archivedEvents: 0,
      // In position order: the refund was stored first.
      history: [
        { type: 'payment_refunded', occurredAt: '2026-11-03T09:00:00.000Z', payloadJson: stored[0] },
        { type: 'payment_completed', occurredAt: '2026-11-03T08:00:00.000Z', payloadJson: stored[1] },
      ],
    });
    expect((await h.graphql(`query { payment(merchantId: "${M}", paymentId: "nope") { paymentId } }`)).body.data).toEqual({ payment: null });
  });

  it("refuses a merchant's token for another merchant's payments (GraphQL and REST)", async () => {
    const token = await h.token({ kind: 'merchant', merchantId: OTHER });
    const res = await h.graphql(PAYMENTS, { merchantId: M }, { token });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await rest(h, `/v1/merchants/${M}/payments`, { token })).status).toBe(403);
    expect((await rest(h, `/v1/merchants/${M}/payments/pA`, { token })).status).toBe(403);
    expect((await rest(h, `/v1/merchants/${M}/payments`, { token: null })).status).toBe(401);
    const own = await rest(h, `/v1/merchants/${OTHER}/payments`, { token });
    expect((own.body as { payments: Array<{ paymentId: string; amount: string }> }).payments.map((p) => [p.paymentId, p.amount])).toEqual([['pA', '999']]);
  });

  it('answers the same over REST, with problems for bad parameters and unknown payments', async () => {
    const page = await rest(h, `/v1/merchants/${M}/payments?customerId=c-1&first=2`);
    expect(page.status).toBe(200);
    const body = page.body as { payments: Array<{ paymentId: string }>; pageInfo: { hasNextPage: boolean; endCursor: string } };
    expect(body.payments.map((p) => p.paymentId)).toEqual(['pD', 'pC']);
    expect(body.pageInfo.hasNextPage).toBe(true);
    const next = await rest(h, `/v1/merchants/${M}/payments?customerId=c-1&first=2&after=${body.pageInfo.endCursor}`);
    expect((next.body as typeof body).payments.map((p) => p.paymentId)).toEqual(['pA']);

    const problem = async (path: string) => {
      const res = await rest(h, path);
      return [res.status, (res.body as { code: string; detail: string }).code, (res.body as { detail: string }).detail];
    };
    expect(await problem(`/v1/merchants/${M}/payments?storeId=s-1&method=CARD`)).toEqual([400, 'BAD_USER_INPUT', expect.stringContaining('no index serves this filter')]);
    expect(await problem(`/v1/merchants/${M}/payments?colour=red`)).toEqual([400, 'BAD_USER_INPUT', expect.stringContaining('unknown parameter "colour"')]);
    expect(await problem(`/v1/merchants/${M}/payments?from=2026-11-01`)).toEqual([400, 'BAD_USER_INPUT', expect.stringContaining('from: DateTime must be RFC 3339')]);
    expect(await problem(`/v1/merchants/${M}/payments?first=0`)).toEqual([400, 'BAD_USER_INPUT', 'first must be an integer from 1 to 100']);
    expect(await problem(`/v1/merchants/${M}/payments/nope`)).toEqual([404, 'BAD_REQUEST', 'merchant "m-pay" has no payment "nope"']);

    const detail = await rest(h, `/v1/merchants/${M}/payments/pA`);
    expect(detail.status).toBe(200);
    expect((detail.body as { history: Array<{ type: string }> }).history.map((e) => e.type)).toEqual(['payment_completed', 'payment_refunded']);
  });
});
