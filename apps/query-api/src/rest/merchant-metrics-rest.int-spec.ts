import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQueryApiHarness, type QueryApiHarness } from '../testing/query-api-harness.js';
import { documentProblems, openApiValidators, type OpenApiValidators } from './testing/openapi-validation.js';
import { fillReadModel, MERCHANT, metricsPath, rest } from './testing/rest-client.js';

/**
 * The REST API against a read model filled by hand (rest-client.ts): the same
 * answer as GraphQL for the same question, one answer worked out by hand, and
 * every answer valid against the OpenAPI document the API serves.
 */
const VALUES =
  'currency transactionCount grossAmount refundCount refundAmount netAmount failedCount averageTicket failureRate uniqueCustomers uniqueCustomersExact uniqueCustomersStandardError';
const QUERY = `query Q($merchantId: ID!, $from: DateTime!, $to: DateTime!, $granularity: Granularity!, $timeZone: String, $groupBy: [Dimension!], $compareTo: Comparison) {
  merchantMetrics(merchantId: $merchantId, from: $from, to: $to, granularity: $granularity, timeZone: $timeZone, groupBy: $groupBy, compareTo: $compareTo) {
    freshness { asOf lagSeconds version replicaLagSeconds }
    totals { ${VALUES} }
    series { currency paymentMethod storeId points { start values { ${VALUES} } previous { ${VALUES} } } }
  }
}`;

interface Question {
  from: string;
  to: string;
  granularity: string;
  timeZone?: string;
  groupBy?: string[];
  compareTo?: string;
}

type Answer = { freshness: { asOf: string; lagSeconds: number; version: number } } & Record<string, unknown>;

/** The answer without what moves with the clock. */
function settled(answer: Answer) {
  const { asOf: _asOf, lagSeconds: _lag, ...freshness } = answer.freshness;
  return { ...answer, freshness };
}

/** MetricValues as both APIs write them, computed here. */
function values(currency: string, tx: number, gross: number, refunds: number, refunded: number, failed: number, customers: number, average: string | null) {
  return {
    currency,
    transactionCount: tx,
    grossAmount: String(gross),
    refundCount: refunds,
    refundAmount: String(refunded),
    netAmount: String(gross - refunded),
    failedCount: failed,
    averageTicket: average,
    failureRate: tx + failed === 0 ? null : failed / (tx + failed),
    uniqueCustomers: customers,
    uniqueCustomersExact: true,
    uniqueCustomersStandardError: 0,
  };
}
const zero = (currency: string) => values(currency, 0, 0, 0, 0, 0, 0, null);

describe('GET /v1/merchants/{merchantId}/metrics', () => {
  let h: QueryApiHarness;
  let openApi: OpenApiValidators;
  beforeAll(async () => {
    h = await startQueryApiHarness();
    await fillReadModel(h);
    const document = await rest(h, '/v1/openapi.json', { token: null });
    openApi = openApiValidators(document.body);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function viaRest(question: Question, token?: string) {
    const res = await rest(h, metricsPath(MERCHANT, { ...question }), { token });
    expect([res.status, res.headers.get('content-type'), res.headers.get('cache-control')]).toEqual([200, 'application/json; charset=utf-8', 'private, no-cache']);
    expect(openApi.errorsOf('MetricsResult', res.body)).toEqual([]);
    return res.body as Answer;
  }

  async function viaGraphql(question: Question) {
    const res = await h.graphql(QUERY, { merchantId: MERCHANT, ...question });
    expect(res.body.errors).toBeUndefined();
    return (res.body.data as { merchantMetrics: Answer }).merchantMetrics;
  }

  it('answers the local days of New York across the change to daylight saving time, compared with the days before, as worked out by hand', async () => {
    const token = await h.token({ kind: 'merchant', merchantId: MERCHANT });
    const answer = await viaRest({ from: '2026-03-08T00:00:00-05:00', to: '2026-03-10T00:00:00-04:00', granularity: 'DAY', timeZone: 'America/New_York', compareTo: 'PREVIOUS_PERIOD' }, token);
    // The 8th is [05:00Z, 04:00Z of the 9th), 23 hours: the 06:30Z, 07:15Z and 03:45Z rows; the 9th holds the 04:00Z row.
    // The two days before, the 6th and 7th, hold the 7th's 12:00Z row. Averages: 2501 / 3 = 833.67, 999 / 3 = 333, 3500 / 6 = 583.33.
    expect(settled(answer)).toEqual({
      // The primary answered: no replica lag.
      freshness: { version: 1, replicaLagSeconds: null },
      totals: [values('USD', 6, 3500, 1, 200, 0, 3, '583')],
      series: [
        {
          currency: 'USD',
          paymentMethod: null,
          storeId: null,
          points: [
            { start: '2026-03-08T05:00:00.000Z', values: values('USD', 3, 2501, 1, 200, 0, 2, '834'), previous: zero('USD') },
            { start: '2026-03-09T04:00:00.000Z', values: values('USD', 3, 999, 0, 0, 0, 1, '333'), previous: values('USD', 2, 3000, 0, 0, 1, 2, '1500') },
          ],
        },
      ],
    });
    expect(Date.parse(answer.freshness.asOf)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('writes amounts as strings and counts as numbers, in the GraphQL types\' field order', async () => {
    const res = await rest(h, metricsPath(MERCHANT, { from: '2026-03-08T05:00:00Z', to: '2026-03-09T05:00:00Z', granularity: 'DAY' }));
    expect(res.text).toMatch(/^\{"freshness":\{"asOf":"[^"]+","lagSeconds":[0-9.e-]+,"version":1,"replicaLagSeconds":null\},"totals":\[\{"currency":"USD","transactionCount":6,"grossAmount":"3500",/);
  });

  const QUESTIONS: Record<string, Question> = {
    'HOUR in New York on the 23-hour day, by store': {
      from: '2026-03-08T00:00:00-05:00', to: '2026-03-09T00:00:00-04:00', granularity: 'HOUR', timeZone: 'America/New_York', groupBy: ['STORE'],
    },
    'DAY in New York, by payment method, compared with the previous period': {
      from: '2026-03-06T00:00:00-05:00', to: '2026-03-11T00:00:00-04:00', granularity: 'DAY', timeZone: 'America/New_York', groupBy: ['PAYMENT_METHOD'], compareTo: 'PREVIOUS_PERIOD',
    },
    'WEEK in UTC, by method and store, compared with the year before': {
      from: '2026-03-02T00:00:00Z', to: '2026-03-16T00:00:00Z', granularity: 'WEEK', groupBy: ['PAYMENT_METHOD', 'STORE'], compareTo: 'PREVIOUS_YEAR',
    },
    'MONTH in Asia/Kolkata, by payment method': {
      from: '2026-02-01T00:00:00+05:30', to: '2026-04-01T00:00:00+05:30', granularity: 'MONTH', timeZone: 'Asia/Kolkata', groupBy: ['PAYMENT_METHOD'],
    },
    'QUARTER in New York, compared with the previous period': {
      from: '2026-01-01T00:00:00-05:00', to: '2026-04-01T00:00:00-04:00', granularity: 'QUARTER', timeZone: 'America/New_York', compareTo: 'PREVIOUS_PERIOD',
    },
    'YEAR with the default zone, compared with the year before': {
      from: '2025-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', granularity: 'YEAR', compareTo: 'PREVIOUS_YEAR',
    },
  };

  for (const [name, question] of Object.entries(QUESTIONS)) {
    it(`gives GraphQL's answer: ${name}`, async () => {
      const [viaHttp, viaGraph] = [await viaRest(question), await viaGraphql(question)];
      expect(settled(viaHttp)).toEqual(settled(viaGraph));
      expect((viaHttp.series as unknown[]).length).toBeGreaterThan(0);
    });
  }

  it('serves, without a token, a valid OpenAPI 3.1 document whose answer types are GraphQL\'s, field by field', async () => {
    const res = await rest(h, '/v1/openapi.json', { token: null });
    expect([res.status, res.headers.get('content-type'), res.headers.get('cache-control')]).toEqual([200, 'application/json; charset=utf-8', 'public, max-age=300']);
    expect(documentProblems(res.body)).toEqual([]);
    // The check can fail: a 3.0 document without a title or paths is not one.
    expect(documentProblems({ openapi: '3.0.3', info: { version: '1' } }).length).toBeGreaterThan(0);

    const jsonType: Record<string, string> = { String: 'string', ID: 'string', SafeInt: 'integer', Int: 'integer', Float: 'number', Boolean: 'boolean', DateTime: 'string' };
    type TypeRef = { kind: string; name: string | null; ofType: TypeRef | null };
    const schemas = (res.body as { components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>>; required: string[] }> } }).components.schemas;
    for (const name of ['MetricsResult', 'Freshness', 'Series', 'Point', 'MetricValues']) {
      const introspection = await h.graphql(`{ __type(name: "${name}") { fields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }`);
      const fields = (introspection.body.data as { __type: { fields: Array<{ name: string; type: TypeRef }> } }).__type.fields;
      // As GraphQL says: [name, nullable, JSON type or list or referenced type].
      const declared = fields.map(({ name: field, type }) => {
        const nullable = type.kind !== 'NON_NULL';
        const inner = nullable ? type : type.ofType!;
        if (inner.kind === 'LIST') return [field, nullable, 'array'];
        return [field, nullable, inner.kind === 'OBJECT' ? `#/components/schemas/${inner.name}` : jsonType[inner.name!]];
      });
      const documented = Object.entries(schemas[name]!.properties).map(([field, p]) => {
        const ref = (p.$ref ?? (p.anyOf as Array<Record<string, unknown>> | undefined)?.[0]?.$ref) as string | undefined;
        const types = ([] as unknown[]).concat(p.type ?? (p.anyOf ? 'null' : []));
        return [field, types.includes('null'), ref ?? types.find((t) => t !== 'null')];
      });
      expect(documented).toEqual(declared);
      expect(schemas[name]!.required).toEqual(fields.map((f) => f.name));
    }

    const again = await rest(h, '/v1/openapi.json', { token: null, headers: { 'if-none-match': res.headers.get('etag')! } });
    expect([again.status, again.text]).toEqual([304, '']);
  });

  it('has every hour of the 23-hour day, one after another in UTC', async () => {
    const answer = await viaRest(QUESTIONS['HOUR in New York on the 23-hour day, by store']!);
    const starts = (answer.series as Array<{ points: Array<{ start: string }> }>)[0]!.points.map((p) => p.start);
    expect(starts).toEqual(Array.from({ length: 23 }, (_, i) => new Date(Date.UTC(2026, 2, 8, 5 + i)).toISOString()));
  });
});
