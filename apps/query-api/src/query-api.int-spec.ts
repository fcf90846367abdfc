import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMerchantToken } from '@app/access';
import { merchantMetricsProjection } from '@app/merchant-metrics';
import { goLiveIfFirst, installVersion } from '@app/projections';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { getIntrospectionQuery, parse, print, printSchema, visit } from 'graphql/index.js';
import type pg from 'pg';
import { eventually } from '@app/testing';
import { AdminListener } from './admin/admin-listener.js';
import { PG_POOL } from './infrastructure/tokens.js';
import { startQueryApiHarness, TEST_SECRET, type QueryApiHarness } from './testing/query-api-harness.js';

const METRICS = `query M($merchantId: ID!, $from: DateTime!, $to: DateTime!, $zone: String) {
  merchantMetrics(merchantId: $merchantId, from: $from, to: $to, granularity: DAY, timeZone: $zone) { totals { currency } }
}`;
const JANUARY = { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' };
const FULL_SELECTION = `freshness { asOf lagSeconds version }
  totals { ...V } series { currency paymentMethod storeId points { start values { ...V } previous { ...V } } }`;
const VALUES_FRAGMENT = 'fragment V on MetricValues { currency transactionCount grossAmount refundCount refundAmount netAmount failedCount averageTicket uniqueCustomers }';

/** The agreed contract, by hand; descriptions are checked separately. */
const CONTRACT = `type MetricValues {
  currency: String!
  transactionCount: SafeInt!
  grossAmount: String!
  refundCount: SafeInt!
  refundAmount: String!
  netAmount: String!
  failedCount: SafeInt!
  averageTicket: String
  failureRate: Float
  uniqueCustomers: SafeInt!
  uniqueCustomersExact: Boolean!
  uniqueCustomersStandardError: Float!
}

scalar SafeInt

type Freshness {
  asOf: DateTime!
  lagSeconds: Float!
  version: Int!
  replicaLagSeconds: Float
}

scalar DateTime

type Point {
  start: DateTime!
  values: MetricValues!
  previous: MetricValues
}

type Series {
  currency: String!
  paymentMethod: String
  storeId: String
  points: [Point!]!
}

type MetricsResult {
  freshness: Freshness!
  totals: [MetricValues!]!
  series: [Series!]!
}

type PaymentEvent {
  position: SafeInt!
  eventId: ID!
  type: String!
  occurredAt: DateTime!
  recordedAt: DateTime!
  payloadJson: String!
}

type Payment {
  paymentId: ID!
  status: PaymentStatus!
  occurredAt: DateTime!
  currency: String!
  amount: String
  refundedAmount: String!
  refundCount: SafeInt!
  overRefunded: Boolean!
  completedCount: SafeInt!
  failedCount: SafeInt!
  storeId: String!
  method: String!
  customerId: ID
  failedAt: DateTime
  failureReason: String
  lastRefundAt: DateTime
  eventCount: SafeInt!
}

enum PaymentStatus {
  COMPLETED
  PARTIALLY_REFUNDED
  REFUNDED
  FAILED
  REFUND_ONLY
}

type PaymentDetail {
  paymentId: ID!
  status: PaymentStatus!
  occurredAt: DateTime!
  currency: String!
  amount: String
  refundedAmount: String!
  refundCount: SafeInt!
  overRefunded: Boolean!
  completedCount: SafeInt!
  failedCount: SafeInt!
  storeId: String!
  method: String!
  customerId: ID
  failedAt: DateTime
  failureReason: String
  lastRefundAt: DateTime
  eventCount: SafeInt!
  history: [PaymentEvent!]!
  archivedEvents: SafeInt!
}

type PaymentPageInfo {
  hasNextPage: Boolean!
  endCursor: String
}

type PaymentConnection {
  nodes: [Payment!]!
  pageInfo: PaymentPageInfo!
}

type Query {
  merchantMetrics(merchantId: ID!, from: DateTime!, to: DateTime!, granularity: Granularity!, timeZone: String = "UTC", groupBy: [Dimension!] = [], compareTo: Comparison): MetricsResult!
  payments(merchantId: ID!, filter: PaymentFilter, first: Int = 20, after: String): PaymentConnection!
  payment(merchantId: ID!, paymentId: ID!): PaymentDetail
}

enum Granularity {
  HOUR
  DAY
  WEEK
  MONTH
  QUARTER
  YEAR
}

enum Dimension {
  PAYMENT_METHOD
  STORE
}

enum Comparison {
  PREVIOUS_PERIOD
  PREVIOUS_YEAR
}

input PaymentFilter {
  paymentId: ID
  customerId: ID
  storeId: String
  method: String
  status: PaymentStatus
  minAmount: String
  maxAmount: String
  from: DateTime
  to: DateTime
}`;

const error = (code: string, message: string) => ({ message, extensions: { code } });

describe('query API (no read model yet)', () => {
  let h: QueryApiHarness;
  beforeAll(async () => {
    h = await startQueryApiHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const unauthenticated = (message: string) => ({ data: null, errors: [error('UNAUTHENTICATED', message)] });

  describe('contract', () => {
    it('serves the agreed schema', () => {
      const sdl = printSchema(h.app.get(GraphQLSchemaHost).schema);
      const withoutDescriptions = print(visit(parse(sdl), { enter: (node) => ('description' in node && node.description ? { ...node, description: undefined } : undefined) }));
      expect(withoutDescriptions).toBe(CONTRACT);
    });

    it('describes every type, field, argument and enum value of its own', () => {
      const undocumented: string[] = [];
      visit(parse(printSchema(h.app.get(GraphQLSchemaHost).schema)), {
        enter(node, _key, _parent, _path, ancestors) {
          if (!('name' in node) || !node.name || !('description' in node)) return;
          if (node.kind === 'ObjectTypeDefinition' && node.name.value === 'Query') return;
          if (!node.description) undocumented.push([...ancestors.filter((a) => 'name' in (a as object)).map((a) => (a as { name: { value: string } }).name.value), node.name.value].join('.'));
        },
      });
      expect(undocumented).toEqual([]);
    });
  });

  describe('authentication', () => {
    it('refuses a request without a token with HTTP 401 and no data, introspection included', async () => {
      for (const query of [METRICS, '{ __schema { queryType { name } } }']) {
        const res = await h.graphql(query, { merchantId: 'm-1', ...JANUARY }, { token: null });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="query-api"');
        expect(res.body).toEqual(unauthenticated('missing "Authorization: Bearer <token>" header'));
      }
      const get = await fetch(`${h.url}/graphql?query=${encodeURIComponent('{ __typename }')}`);
      expect(get.status).toBe(401);
      expect(await get.json()).toEqual(unauthenticated('missing "Authorization: Bearer <token>" header'));
    });

    it('refuses a badly signed, an expired and a malformed token', async () => {
      const forged = await signMerchantToken('someone-elses-secret-0123456789abcdefgh', { kind: 'ops' }, { ttlSeconds: 3600 });
      const expired = await signMerchantToken(TEST_SECRET, { kind: 'ops' }, { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) });
      const noExpiry = await new SignJWT({ role: 'ops' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('merchant-payment-analytics')
        .setAudience('query-api')
        .sign(new TextEncoder().encode(TEST_SECRET));
      const cases: Array<[string, string]> = [
        [forged, 'token signature is invalid'],
        [expired, 'token expired'],
        [noExpiry, 'token claim "exp" is not acceptable'],
        ['not-a-jwt', 'token is malformed'],
      ];
      for (const [token, message] of cases) {
        const res = await h.graphql(METRICS, { merchantId: 'm-1', ...JANUARY }, { token });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="query-api", error="invalid_token"');
        expect(res.body).toEqual(unauthenticated(message));
      }
    });
  });

  describe('authorization', () => {
    it("refuses a merchant token asking for another merchant's metrics, also once the query is compiled", async () => {
      const token = await h.token({ kind: 'merchant', merchantId: 'm-1' });
      for (let round = 0; round < 3; round++) {
        const res = await h.graphql(METRICS, { merchantId: 'm-2', ...JANUARY }, { token });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({
          data: null,
          errors: [{ ...error('FORBIDDEN', 'this token may read merchant "m-1" only'), locations: [{ line: 2, column: 3 }], path: ['merchantMetrics'] }],
        });
      }
    });

    it('refuses before validating anything else, so a forbidden request learns nothing about its arguments', async () => {
      const token = await h.token({ kind: 'merchant', merchantId: 'm-1' });
      const res = await h.graphql(METRICS, { merchantId: 'm-2', ...JANUARY, zone: 'Nowhere/Special' }, { token });
      expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    });

    it('lets a merchant read itself and ops read anyone (here: through to the read side, which has no live version yet)', async () => {
      const merchant = await h.token({ kind: 'merchant', merchantId: 'm-1' });
      const ops = await h.token({ kind: 'ops' });
      for (const [token, merchantId] of [[merchant, 'm-1'], [ops, 'm-1'], [ops, 'm-2']] as const) {
        const res = await h.graphql(METRICS, { merchantId, ...JANUARY }, { token });
        expect(res.status).toBe(200);
        expect(res.body.data).toBeNull();
        expect(res.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
          ['UNAVAILABLE', 'the metrics read model has no live version yet; retry later'],
        ]);
      }
    });
  });

  describe('input errors', () => {
    it('answers BAD_USER_INPUT for an unknown time zone', async () => {
      const res = await h.graphql(METRICS, { merchantId: 'm-1', ...JANUARY, zone: 'Mars/Olympus_Mons' });
      expect(res.status).toBe(200);
      expect(res.body.data).toBeNull();
      expect(res.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        ['BAD_USER_INPUT', 'unknown time zone "Mars/Olympus_Mons": use an IANA Area/Location name such as "Europe/Paris" or "UTC"'],
      ]);
    });

    it('answers BAD_USER_INPUT for a DateTime that is not RFC 3339 with an offset, as a variable or a literal', async () => {
      // Again and again: also once the query is compiled.
      for (let round = 0; round < 4; round++) {
        const noOffset = await h.graphql(METRICS, { merchantId: 'm-1', from: '2026-01-01T00:00:00', to: JANUARY.to });
        expect(noOffset.status).toBe(400);
        expect(noOffset.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
          [
            'BAD_USER_INPUT',
            'Variable "$from" got invalid value "2026-01-01T00:00:00"; DateTime must be RFC 3339 with an offset, like 2026-11-20T03:15:00Z or 2026-11-20T12:15:00+09:00; got "2026-01-01T00:00:00"',
          ],
        ]);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const impossible = await h.graphql(
        '{ merchantMetrics(merchantId: "m-1", from: "2026-02-30T00:00:00Z", to: "2026-03-01T00:00:00Z", granularity: DAY) { totals { currency } } }',
      );
      expect(impossible.status).toBe(400);
      expect(impossible.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        ['BAD_USER_INPUT', 'DateTime "2026-02-30T00:00:00Z" is not a real date and time'],
      ]);
    });

    it('answers BAD_USER_INPUT for a reversed range, and for one over QUERY_MAX_RANGE_DAYS (400)', async () => {
      const res = await h.graphql(METRICS, { merchantId: 'm-1', from: JANUARY.to, to: JANUARY.from });
      expect(res.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        ['BAD_USER_INPUT', 'to (2026-01-01T00:00:00.000Z) must be after from (2026-02-01T00:00:00.000Z)'],
      ]);
      const long = await h.graphql(METRICS, { merchantId: 'm-1', from: '2025-01-01T00:00:00Z', to: '2026-02-06T00:00:00Z' });
      expect(long.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        ['BAD_USER_INPUT', 'the range spans 401.0 days; at most 400 days are allowed with DAY buckets'],
      ]);
    });

    it('answers GRAPHQL_VALIDATION_FAILED (HTTP 400) for a query the schema does not allow', async () => {
      const res = await h.graphql('{ merchantMetrics(merchantId: "m-1") { totals { currency } } }');
      expect(res.status).toBe(400);
      expect(res.body.data).toBeNull();
      expect(res.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual(
        ['from', 'to', 'granularity'].map((arg) => [
          'GRAPHQL_VALIDATION_FAILED',
          `Field "merchantMetrics" argument "${arg}" of type "${arg === 'granularity' ? 'Granularity!' : 'DateTime!'}" is required, but it was not provided.`,
        ]),
      );
    });
  });

  describe('limits', () => {
    it('allows the standard introspection query (depth 15, cost 220)', async () => {
      const res = await h.graphql(getIntrospectionQuery());
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect((res.body.data as { __schema: { queryType: { name: string } } }).__schema.queryType.name).toBe('Query');
    });

    it('refuses a query deeper than QUERY_MAX_DEPTH (15)', async () => {
      const deep = `{ __schema { types { fields { type { ${'ofType { '.repeat(11)}name${' }'.repeat(11)} } } } } }`;
      const res = await h.graphql(deep);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        data: null,
        errors: [error('QUERY_TOO_COMPLEX', 'unnamedQuery query depth (16) exceeds the query depth limit of 15')],
      });
    });

    it('refuses a query costing more than QUERY_MAX_COMPLEXITY (500), however the cost is spread', async () => {
      const fields = ['a', 'b', 'c', 'd'].map(
        (alias) => `${alias}: merchantMetrics(merchantId: "m-1", from: "${JANUARY.from}", to: "${JANUARY.to}", granularity: DAY) { ${FULL_SELECTION} }`,
      );
      const res = await h.graphql(`{ ${fields.join(' ')} } ${VALUES_FRAGMENT}`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        data: null,
        errors: [error('QUERY_TOO_COMPLEX', 'the query costs 560, more than the limit of 500; merchantMetrics costs 100 and every other field 1')],
      });
      // Three of the same are within the limit (cost 420) and reach the read side.
      const three = await h.graphql(`{ ${fields.slice(0, 3).join(' ')} } ${VALUES_FRAGMENT}`);
      expect(three.status).toBe(200);
      expect(three.body.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
    });

    it('prices @include/@skip with each request\'s variables, and the operation named by operationName', async () => {
      const field = (alias: string, directive = '') =>
        `${alias}: merchantMetrics(merchantId: "m-1", from: "${JANUARY.from}", to: "${JANUARY.to}", granularity: DAY) ${directive} { ${FULL_SELECTION} }`;
      const query = `query Q($more: Boolean!) { ${field('a')} ${field('b')} ${field('c')} ${field('d', '@include(if: $more)')} } ${VALUES_FRAGMENT}`;
      // The same document again and again: its cost is not cached across different variables.
      for (const [more, status, code] of [[false, 200, 'UNAVAILABLE'], [true, 400, 'QUERY_TOO_COMPLEX'], [false, 200, 'UNAVAILABLE'], [true, 400, 'QUERY_TOO_COMPLEX']] as const) {
        const res = await h.graphql(query, { more });
        expect(res.status).toBe(status);
        expect(res.body.errors?.[0]?.extensions?.code).toBe(code);
      }
      const two = `query Cheap { ${field('a')} } query Dear { ${field('a')} ${field('b')} ${field('c')} ${field('d')} } ${VALUES_FRAGMENT}`;
      for (let round = 0; round < 2; round++) {
        const cheap = await h.graphql('', undefined, { body: JSON.stringify({ query: two, operationName: 'Cheap' }) });
        expect([cheap.status, cheap.body.errors?.[0]?.extensions?.code]).toEqual([200, 'UNAVAILABLE']);
        const dear = await h.graphql('', undefined, { body: JSON.stringify({ query: two, operationName: 'Dear' }) });
        expect(dear.status).toBe(400);
        expect(dear.body).toEqual({
          data: null,
          errors: [error('QUERY_TOO_COMPLEX', 'the query costs 560, more than the limit of 500; merchantMetrics costs 100 and every other field 1')],
        });
      }
    });

    it('refuses an operationName the document does not have, even once the document is compiled (the cost of a missing operation is 0)', async () => {
      const fields = ['a', 'b', 'c', 'd'].map(
        (alias) => `${alias}: merchantMetrics(merchantId: "m-1", from: "${JANUARY.from}", to: "${JANUARY.to}", granularity: DAY) { ${FULL_SELECTION} }`,
      );
      const query = `query Dear { ${fields.join(' ')} } ${VALUES_FRAGMENT}`;
      for (let round = 0; round < 4; round++) {
        const named = await h.graphql('', undefined, { body: JSON.stringify({ query, operationName: 'Dear' }) });
        expect([named.status, named.body.errors?.[0]?.extensions?.code]).toEqual([400, 'QUERY_TOO_COMPLEX']);
        const unknown = await h.graphql('', undefined, { body: JSON.stringify({ query, operationName: 'Nope' }) });
        expect([unknown.status, unknown.body]).toEqual([400, { data: null, errors: [error('GRAPHQL_VALIDATION_FAILED', 'Unknown operation named "Nope".')] }]);
      }
      const two = 'query A { a: __typename } query B { b: __typename }';
      const unnamed = await h.graphql(two);
      expect([unnamed.status, unnamed.body]).toEqual([400, {
        data: null, errors: [error('GRAPHQL_VALIDATION_FAILED', 'Must provide operation name if query contains multiple operations.')],
      }]);
    });

    it('refuses a document of more than 2,000 tokens before validating it', async () => {
      const fields = (n: number) => `{ ${Array.from({ length: n }, () => '__typename').join(' ')} }`;
      const res = await h.graphql(fields(5000));
      expect(res.status).toBe(400);
      expect(res.body.data).toBeNull();
      expect(res.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        ['GRAPHQL_VALIDATION_FAILED', 'Syntax Error: Document contains more that 2000 tokens. Parsing aborted.'],
      ]);
      // 1,986 tokens (the braces and 248 fields of 8 tokens each): parsed, validated and run.
      const within = await h.graphql(`{ ${Array.from({ length: 248 }, () => '__typename @include(if: true)').join(' ')} }`);
      expect([within.status, within.body]).toEqual([200, { data: { __typename: 'Query' } }]);
    });

    it('refuses an operation too large to price (over 10,000 fields, fragments counted at each use)', async () => {
      const query = `{ ...A } fragment A on Query { ${'...B '.repeat(101)}} fragment B on Query { ${'__typename '.repeat(100)}}`;
      const res = await h.graphql(query);
      expect(res.status).toBe(400);
      expect(res.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        ['QUERY_TOO_COMPLEX', 'the query has more than 10000 fields, more than the limit of 500; merchantMetrics costs 100 and every other field 1'],
      ]);
    });

    it('runs the operation a request names, however often a document of several operations is asked', async () => {
      const query = 'query A { a: __typename } query B { b: __typename }';
      for (let round = 0; round < 4; round++) {
        for (const [operationName, data] of [['A', { a: 'Query' }], ['B', { b: 'Query' }]] as const) {
          const res = await h.graphql('', undefined, { body: JSON.stringify({ query, operationName }) });
          expect([res.status, res.body]).toEqual([200, { data }]);
        }
      }
    });

    it('refuses more than QUERY_MAX_ALIASES (10) aliases, even of free fields', async () => {
      const aliases = Array.from({ length: 11 }, (_, i) => `a${i}: __typename`).join(' ');
      const res = await h.graphql(`{ ${aliases} }`);
      expect(res.status).toBe(400);
      expect(res.body.data).toBeNull();
      expect(res.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['QUERY_TOO_COMPLEX', 'the query uses more than 10 aliases']]);
      const ten = await h.graphql(`{ ${Array.from({ length: 10 }, (_, i) => `a${i}: __typename`).join(' ')} }`);
      expect(ten.status).toBe(200);
    });

    it('refuses batched requests and bodies over MAX_REQUEST_BYTES', async () => {
      const batch = await h.graphql('', undefined, { body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]) });
      expect(batch.status).toBe(400);
      expect(batch.body.data ?? null).toBeNull();
      const huge = await h.graphql('', undefined, { body: JSON.stringify({ query: `{ __typename } # ${'x'.repeat(70_000)}` }) });
      expect(huge.status).toBe(413);
      expect(huge.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_REQUEST']);
    });
  });

  describe('operations', () => {
    const readyText = async () => {
      const res = await fetch(`${h.url}/health/ready`);
      return [res.status, await res.text()];
    };
    const details = async () => {
      const res = await fetch(`${h.adminUrl}/health/details`);
      return [res.status, await res.json()];
    };

    it('is live at once, ready only once the read model has a live version, and unready within a few seconds once it has none', async () => {
      const live = await fetch(`${h.url}/health/live`);
      expect([live.status, await live.text()]).toEqual([200, '{"status":"ok"}']);
      expect(await readyText()).toEqual([503, '{"status":"unavailable"}']);
      expect(await details()).toEqual([503, { status: 'unavailable', database: 'ok', readModel: 'no live version' }]);

      const client = await h.pool.connect();
      try {
        await installVersion(client, merchantMetricsProjection, { version: 1, partitions: 16, codeRevision: 'test' });
        expect(await goLiveIfFirst(client, 'merchant-metrics', 1)).toBe(true);
        await eventually(async () => expect(await readyText()).toEqual([200, '{"status":"ok"}']), 5000, 50);
        expect(await details()).toEqual([200, { status: 'ready', database: 'ok', readModel: { version: 1 } }]);

        await client.query(`delete from projections.live where projection = 'merchant-metrics'`);
        const since = Date.now();
        await eventually(async () => expect(await readyText()).toEqual([503, '{"status":"unavailable"}']), 10_000, 50);
        // Within one interval of the background check (1 s), and the check's run.
        expect(Date.now() - since).toBeLessThan(2500);
        expect(await details()).toEqual([503, { status: 'unavailable', database: 'ok', readModel: 'no live version' }]);
        expect(await goLiveIfFirst(client, 'merchant-metrics', 1)).toBe(true);
        await eventually(async () => expect(await readyText()).toEqual([200, '{"status":"ok"}']), 5000, 50);
      } finally {
        client.release();
      }
    });

    it('counts requests by outcome in /metrics, served on the admin port (on 127.0.0.1) and not on the API port', async () => {
      const count = async (outcome: string) => {
        const text = await (await fetch(`${h.adminUrl}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith(`query_api_requests_total{outcome="${outcome}"}`));
        return line ? Number(line.split(' ')[1]) : 0;
      };
      const before = await Promise.all(['ok', 'unauthenticated', 'forbidden'].map(count));
      await h.graphql('{ __typename }');
      await h.graphql('{ __typename }', undefined, { token: null });
      await h.graphql(METRICS, { merchantId: 'm-2', ...JANUARY }, { token: await h.token({ kind: 'merchant', merchantId: 'm-1' }) });
      expect(await Promise.all(['ok', 'unauthenticated', 'forbidden'].map(count))).toEqual(before.map((n) => n + 1));
      const scrape = await fetch(`${h.adminUrl}/metrics`);
      expect(scrape.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(await scrape.text()).toContain('query_api_request_duration_seconds_bucket{le="0.005",outcome="ok"}');
      expect((await fetch(`${h.url}/metrics`)).status).toBe(404);
      expect(h.app.get(AdminListener).server!.address.address).toBe('127.0.0.1');
    });
  });
});

describe('query API readiness without a database round trip per call', () => {
  let h: QueryApiHarness;
  beforeAll(async () => {
    // One check at start and none for a minute: any query during the test is one a call made.
    h = await startQueryApiHarness({ READINESS_INTERVAL_MS: '60000' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers 50 readiness and 50 liveness calls without taking a connection from the pool', async () => {
    const pool = h.app.get<symbol, pg.Pool>(PG_POOL);
    let acquired = 0;
    const count = () => acquired++;
    pool.on('acquire', count);
    try {
      for (let i = 0; i < 50; i++) {
        const ready = await fetch(`${h.url}/health/ready`);
        expect([ready.status, await ready.text()]).toEqual([503, '{"status":"unavailable"}']);
        const live = await fetch(`${h.url}/health/live`);
        expect([live.status, await live.text()]).toEqual([200, '{"status":"ok"}']);
      }
      expect(acquired).toBe(0);
      // The count does see the pool's work: a merchantMetrics question looks for the live version.
      expect((await h.graphql(METRICS, { merchantId: 'm-1', ...JANUARY })).body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAVAILABLE']);
      expect(acquired).toBeGreaterThan(0);
    } finally {
      pool.off('acquire', count);
    }
  });
});

describe('query API bucket limit (QUERY_MAX_BUCKETS=47)', () => {
  let h: QueryApiHarness;
  beforeAll(async () => {
    h = await startQueryApiHarness({ QUERY_MAX_BUCKETS: '47' });
    // Buckets are counted by the reader, which runs only once a version is live.
    const client = await h.pool.connect();
    try {
      await installVersion(client, merchantMetricsProjection, { version: 1, partitions: 16, codeRevision: 'test' });
      await goLiveIfFirst(client, 'merchant-metrics', 1);
    } finally {
      client.release();
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  const HOURLY = METRICS.replace('granularity: DAY', 'granularity: HOUR');
  // 2026-03-08 and 09 in New York: the first day has 23 hours (clocks go forward at 02:00).
  const TWO_NEW_YORK_DAYS = { merchantId: 'm-1', from: '2026-03-08T00:00:00-05:00', to: '2026-03-10T00:00:00-04:00' };

  it('answers a range of exactly the limit: 47 New York hours across the change to summer time', async () => {
    for (let round = 0; round < 3; round++) {
      const res = await h.graphql(HOURLY, { ...TWO_NEW_YORK_DAYS, zone: 'America/New_York' });
      expect([res.status, res.body]).toEqual([200, { data: { merchantMetrics: { totals: [] } } }]);
    }
  });

  it('refuses one bucket more with BAD_USER_INPUT, the count and the limit, and no data, also once the query is compiled', async () => {
    const refused = (message: string) => ({
      data: null,
      errors: [{ ...error('BAD_USER_INPUT', message), locations: [{ line: 2, column: 3 }], path: ['merchantMetrics'] }],
    });
    for (let round = 0; round < 3; round++) {
      // Two UTC days: 48 hours.
      const utc = await h.graphql(HOURLY, { merchantId: 'm-1', from: '2026-03-08T00:00:00Z', to: '2026-03-10T00:00:00Z' });
      expect([utc.status, utc.body]).toEqual([200, refused('the range has 48 HOUR buckets; at most 47 are allowed')]);
      // 48 days, widened to whole days: from the middle of March 1st to the start of April 18th.
      const daily = await h.graphql(METRICS, { merchantId: 'm-1', from: '2026-03-01T12:00:00Z', to: '2026-04-17T00:00:01Z' });
      expect([daily.status, daily.body]).toEqual([200, refused('the range has 48 DAY buckets; at most 47 are allowed')]);
    }
  });
});
