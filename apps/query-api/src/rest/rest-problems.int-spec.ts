import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeMerchantToken } from '@app/access';
import { createKysely } from '@app/database';
import { eventually } from '@app/testing';
import { startQueryApiHarness, type QueryApiHarness } from '../testing/query-api-harness.js';
import { openApiValidators, type OpenApiValidators } from './testing/openapi-validation.js';
import { fillReadModel, MERCHANT, metricsPath, rest, type RestResponse } from './testing/rest-client.js';

/**
 * Every failure of the REST API as an RFC 9457 problem: its status, its type,
 * title and code, the headers it needs, and for what GraphQL also refuses, the
 * same code and message as GraphQL's error.
 */
const DAY = { from: '2026-03-08T05:00:00Z', to: '2026-03-09T05:00:00Z', granularity: 'DAY' };
const METRICS_QUERY = `query Q($merchantId: ID!, $from: DateTime!, $to: DateTime!, $granularity: Granularity!, $timeZone: String, $groupBy: [Dimension!]) {
  merchantMetrics(merchantId: $merchantId, from: $from, to: $to, granularity: $granularity, timeZone: $timeZone, groupBy: $groupBy) { totals { currency } }
}`;

const TYPES = {
  400: ['/v1/problems/bad-user-input', 'Bad parameter', 'BAD_USER_INPUT'],
  401: ['/v1/problems/unauthenticated', 'Not authenticated', 'UNAUTHENTICATED'],
  403: ['/v1/problems/forbidden', 'Forbidden', 'FORBIDDEN'],
  404: ['/v1/problems/not-found', 'Not found', 'BAD_REQUEST'],
  405: ['/v1/problems/method-not-allowed', 'Method not allowed', 'BAD_REQUEST'],
  414: ['/v1/problems/uri-too-long', 'URI too long', 'BAD_REQUEST'],
  503: ['/v1/problems/unavailable', 'Unavailable', 'UNAVAILABLE'],
  504: ['/v1/problems/query-timeout', 'Query timed out', 'QUERY_TIMEOUT'],
} as const;

/** The problem a response should be, and the headers every problem has. */
function problem(status: keyof typeof TYPES, detail: string) {
  const [type, title, code] = TYPES[status];
  return { status, contentType: 'application/problem+json; charset=utf-8', cacheControl: 'no-store', body: { type, title, status, detail, code } };
}

function asProblem(res: RestResponse) {
  return { status: res.status, contentType: res.headers.get('content-type'), cacheControl: res.headers.get('cache-control'), body: res.body };
}

/** GraphQL's one error for the same question: [code, message]. */
async function graphqlError(h: QueryApiHarness, variables: Record<string, unknown>, token?: string) {
  const res = await h.graphql(METRICS_QUERY, { merchantId: MERCHANT, ...variables }, token === undefined ? {} : { token });
  return res.body.errors?.map((e) => [e.extensions?.code, e.message]);
}

describe('REST problems', () => {
  let h: QueryApiHarness;
  let openApi: OpenApiValidators;
  beforeAll(async () => {
    h = await startQueryApiHarness();
    await fillReadModel(h);
    openApi = openApiValidators((await rest(h, '/v1/openapi.json', { token: null })).body);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** The response, checked against the document's Problem schema. */
  async function refused(path: string, options: Parameters<typeof rest>[2] = {}) {
    const res = await rest(h, path, options);
    expect(openApi.errorsOf('Problem', res.body)).toEqual([]);
    return res;
  }

  it('401 without a token, with WWW-Authenticate: Bearer, before anything else is looked at', async () => {
    const res = await refused(metricsPath(MERCHANT, { granularity: 'DAYS' }), { token: null });
    expect(asProblem(res)).toEqual(problem(401, 'missing "Authorization: Bearer <token>" header'));
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="query-api"');
  });

  it('401 with invalid_token for a token that does not verify, with the message GraphQL gives', async () => {
    const forged = `${(await h.token({ kind: 'ops' })).slice(0, -4)}AAAA`;
    const res = await refused(metricsPath(MERCHANT, DAY), { token: forged });
    const graphql = await h.graphql('{ __typename }', {}, { token: forged });
    expect(asProblem(res)).toEqual(problem(401, graphql.body.errors![0]!.message));
    expect(graphql.body.errors![0]!.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="query-api", error="invalid_token"');
  });

  it('401 for a revoked token, which worked until it was revoked', async () => {
    const token = await h.token({ kind: 'merchant', merchantId: MERCHANT });
    expect((await rest(h, metricsPath(MERCHANT, DAY), { token })).status).toBe(200);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string; exp: number };
    await revokeMerchantToken(createKysely(h.pool), { jti: claims.jti, expiresAt: new Date(claims.exp * 1000), reason: 'test' });
    await eventually(async () => expect(asProblem(await refused(metricsPath(MERCHANT, DAY), { token }))).toEqual(problem(401, 'token has been revoked')), 5000, 20);
  });

  it("403 for another merchant's token, before its parameters are judged, with GraphQL's message", async () => {
    const token = await h.token({ kind: 'merchant', merchantId: 'm-other' });
    const detail = 'this token may read merchant "m-other" only';
    expect(asProblem(await refused(metricsPath(MERCHANT, DAY), { token }))).toEqual(problem(403, detail));
    expect(asProblem(await refused(metricsPath(MERCHANT, { granularity: 'DAYS', nonsense: '1' }), { token }))).toEqual(problem(403, detail));
    expect(await graphqlError(h, DAY, token)).toEqual([['FORBIDDEN', detail]]);
    // Its own merchant it reads.
    expect((await rest(h, metricsPath('m-other', DAY), { token })).status).toBe(200);
  });

  it('400 naming the parameter for a missing, unknown, repeated or malformed one', async () => {
    const cases: Array<[Record<string, string | string[]>, string]> = [
      [{ to: DAY.to, granularity: 'DAY' }, 'missing parameter "from": Start of the range, inclusive; widened down to the start of its bucket.'],
      [{ ...DAY, zone: 'UTC' }, 'unknown parameter "zone"; the parameters are from, to, granularity, timeZone, groupBy and compareTo'],
      [{ ...DAY, from: [DAY.from, DAY.from] }, 'parameter "from" is given 2 times; give it once'],
      [{ ...DAY, granularity: 'DAYS' }, 'parameter "granularity" must be HOUR, DAY, WEEK, MONTH, QUARTER or YEAR, got "DAYS"'],
      [{ ...DAY, compareTo: 'LAST_YEAR' }, 'parameter "compareTo" must be PREVIOUS_PERIOD or PREVIOUS_YEAR, got "LAST_YEAR"'],
      [{ ...DAY, groupBy: 'STORE,PAYMENT_METHOD' }, 'parameter "groupBy" must be PAYMENT_METHOD or STORE, got "STORE,PAYMENT_METHOD"; repeat the parameter for each value: groupBy=PAYMENT_METHOD&groupBy=STORE'],
      [{ ...DAY, groupBy: ['STORE', 'STORE', 'STORE'] }, 'parameter "groupBy" is given 3 times; at most 2 are allowed'],
      [{ ...DAY, from: '2026-03-08T05:00:00' }, 'parameter "from": DateTime must be RFC 3339 with an offset, like 2026-11-20T03:15:00Z or 2026-11-20T12:15:00+09:00; got "2026-03-08T05:00:00"'],
      [{ ...DAY, to: '2026-02-30T00:00:00Z' }, 'parameter "to": DateTime "2026-02-30T00:00:00Z" is not a real date and time'],
    ];
    for (const [parameters, detail] of cases) expect(asProblem(await refused(metricsPath(MERCHANT, parameters)))).toEqual(problem(400, detail));
  });

  it('400 for an offset whose "+" was sent unencoded (a space in a query), saying so', async () => {
    const res = await refused(`/v1/merchants/${MERCHANT}/metrics?from=2026-03-08T14:00:00+09:00&to=2026-03-09T14:00:00%2B09:00&granularity=DAY`);
    expect(asProblem(res)).toEqual(
      problem(
        400,
        'parameter "from": DateTime must be RFC 3339 with an offset, like 2026-11-20T03:15:00Z or 2026-11-20T12:15:00+09:00; got "2026-03-08T14:00:00 09:00" (in a URL query "+" means a space: write an offset\'s "+" as %2B)',
      ),
    );
    expect((await rest(h, `/v1/merchants/${MERCHANT}/metrics?from=2026-03-08T14:00:00%2B09:00&to=2026-03-09T14:00:00%2B09:00&granularity=DAY`)).status).toBe(200);
  });

  it("400 with GraphQL's BAD_USER_INPUT message for what the reader refuses: zone, order, range, groupBy twice", async () => {
    const questions: Array<Record<string, string | string[]>> = [
      { ...DAY, timeZone: 'Mars/Olympus' },
      { ...DAY, from: DAY.to, to: DAY.from },
      { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z', granularity: 'HOUR' },
      { ...DAY, groupBy: ['STORE', 'STORE'] },
    ];
    const answers = [];
    for (const question of questions) {
      const res = await refused(metricsPath(MERCHANT, question));
      answers.push([res.status, (res.body as { code: string }).code, (res.body as { detail: string }).detail]);
    }
    const graphql = [];
    for (const question of questions) graphql.push([400, ...(await graphqlError(h, question))![0]!]);
    expect(answers).toEqual(graphql);
    expect(answers.map((a) => a[2])).toEqual([
      'unknown time zone "Mars/Olympus": use an IANA Area/Location name such as "Europe/Paris" or "UTC"',
      'to (2026-03-08T05:00:00.000Z) must be after from (2026-03-09T05:00:00.000Z)',
      'the range spans 59.0 days; at most 31 days are allowed with HOUR buckets',
      'groupBy lists a dimension twice: STORE, STORE',
    ]);
  });

  it('404 for an unknown path under /v1, once authenticated; 401 before', async () => {
    expect(asProblem(await refused('/v1/merchants/m-rest/sales'))).toEqual(problem(404, 'no resource at /v1/merchants/m-rest/sales; the OpenAPI document at /v1/openapi.json lists them'));
    expect(asProblem(await refused('/v1/merchants/m-rest/sales', { token: null }))).toEqual(problem(401, 'missing "Authorization: Bearer <token>" header'));
    expect(asProblem(await refused('/v1/problems/teapot', { token: null }))).toEqual(problem(404, 'no problem type "teapot" under /v1/problems'));
  });

  it('405 with Allow for another method on the metrics path', async () => {
    const res = await refused(metricsPath(MERCHANT, DAY), { method: 'POST' });
    expect(asProblem(res)).toEqual(problem(405, 'POST is not allowed on /v1/merchants/m-rest/metrics; use GET'));
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('414 for a request target over 2048 bytes, and answers one just within', async () => {
    const base = metricsPath(MERCHANT, DAY);
    const padded = (length: number) => `${base}&timeZone=${'A'.repeat(length - base.length - '&timeZone='.length)}`;
    expect(asProblem(await refused(padded(2049)))).toEqual(problem(414, 'the request target has 2049 bytes; at most 2048 are accepted'));
    // Within the bound, the zone is judged as any other.
    const within = await refused(padded(2048));
    expect([within.status, (within.body as { code: string }).code]).toEqual([400, 'BAD_USER_INPUT']);
  });

  it('describes each problem type at its type URI, without a token', async () => {
    const res = await rest(h, '/v1/problems/query-timeout', { token: null });
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'text/plain; charset=utf-8']);
    expect(res.text).toBe(
      '/v1/problems/query-timeout\n\nQuery timed out: HTTP 504, code QUERY_TIMEOUT.\n\n' +
        'The database cancelled the question after the statement timeout. Asking the same again rarely helps: ask for a shorter range, a coarser granularity or fewer groupBy dimensions.\n',
    );
  });
});

describe('REST problems of the read side: no live version, the series cap, the statement timeout', () => {
  let h: QueryApiHarness;
  beforeAll(async () => {
    h = await startQueryApiHarness({ QUERY_MAX_SERIES: '2', QUERY_STATEMENT_TIMEOUT_MS: '300' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('503 UNAVAILABLE with Retry-After while no version is live, as GraphQL says', async () => {
    const res = await rest(h, metricsPath(MERCHANT, DAY));
    expect(asProblem(res)).toEqual(problem(503, 'the metrics read model has no live version yet; retry later'));
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await graphqlError(h, DAY)).toEqual([['UNAVAILABLE', 'the metrics read model has no live version yet; retry later']]);
  });

  it('400 beyond QUERY_MAX_SERIES and 504 QUERY_TIMEOUT when the database cancels the question, with GraphQL\'s messages', async () => {
    await fillReadModel(h, ['s-1', 's-2', 's-3'].map((store) => ({ merchant: MERCHANT, bucket: '2026-03-08T10:00:00Z', currency: 'EUR', store, completed: 1, gross: 100 })));
    const byStore = await rest(h, metricsPath(MERCHANT, { ...DAY, groupBy: 'STORE' }));
    const cap = await graphqlError(h, { ...DAY, groupBy: ['STORE'] });
    expect(asProblem(byStore)).toEqual(problem(400, cap![0]![1] as string));
    expect(cap![0]![0]).toBe('BAD_USER_INPUT');

    // A migration holding the daily rollup: the question waits for the lock until statement_timeout cancels it.
    const blocker = await h.pool.connect();
    let timedOut: RestResponse;
    let graphql: unknown;
    try {
      await blocker.query('begin');
      await blocker.query('lock table rm_merchant_metrics_v1.metrics_daily in access exclusive mode');
      timedOut = await rest(h, metricsPath(MERCHANT, DAY));
      graphql = await graphqlError(h, DAY);
    } finally {
      await blocker.query('rollback');
      blocker.release();
    }
    const detail = 'the question took longer than 300 ms and was cancelled; ask for a shorter range, a coarser granularity or fewer groupBy dimensions, or retry later';
    expect(asProblem(timedOut)).toEqual(problem(504, detail));
    expect(graphql).toEqual([['QUERY_TIMEOUT', detail]]);
    expect((await rest(h, metricsPath(MERCHANT, DAY))).status).toBe(200);
  });
});

describe('REST while token revocations cannot be checked', () => {
  let h: QueryApiHarness;
  beforeAll(async () => {
    h = await startQueryApiHarness({}, { revocations: { reloadMs: 200, staleAfterMs: 1000 } });
    await fillReadModel(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses every token with 503 and Retry-After, and answers again once they can', async () => {
    const token = await h.token({ kind: 'ops' });
    expect((await rest(h, metricsPath(MERCHANT, DAY), { token })).status).toBe(200);
    await h.pool.query('alter table access.revoked_tokens rename to revoked_tokens_away');
    try {
      await eventually(async () => {
        const res = await rest(h, metricsPath(MERCHANT, DAY), { token });
        expect([asProblem(res), res.headers.get('retry-after')]).toEqual([problem(503, 'token revocations cannot be checked at the moment; retry later'), '5']);
      }, 5000, 50);
    } finally {
      await h.pool.query('alter table access.revoked_tokens_away rename to revoked_tokens');
    }
    await eventually(async () => expect((await rest(h, metricsPath(MERCHANT, DAY), { token })).status).toBe(200), 5000, 50);
  });
});
