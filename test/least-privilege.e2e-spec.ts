import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMerchantToken } from '@app/access';
import { ensureMemberLogin, withClient } from '@app/database';
import { eventually } from '@app/testing';
import { startCommandApiHarness, type CommandApiHarness } from '../apps/command-api/src/testing/command-api-harness.js';
import { sendEvents } from '../apps/projector/src/testing/send-events.js';
import { generateEvents } from '../libs/merchant-metrics/src/testing/index.js';
import { AppProcess, PROJECTOR, QUERY_API } from './support/app-process.js';

const SECRET = 'e2e-least-privilege-jwt-secret-0123456789';
const MERCHANT = 'lp-0';

/** The SQLSTATE a statement fails with as `url`'s login, or 'ok'. */
async function outcome(url: string, statement: string): Promise<string> {
  return withClient(url, async (client) => {
    try {
      await client.query(statement);
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  });
}

describe('least privilege: the projector and the query API on logins of their own', () => {
  let h: CommandApiHarness;
  let projector: AppProcess;
  let queryApi: AppProcess;
  let projectorUrl: string;
  let queryUrl: string;
  let writerUrl: string;
  const suffix = randomBytes(4).toString('hex');
  const logins = [`lp_projector_${suffix}`, `lp_query_${suffix}`, `lp_writer_${suffix}`];
  const events = generateEvents({
    seed: 7, count: 600, merchants: 3, merchantPrefix: 'lp-', customersPerMerchant: 20,
    from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-10-08T00:00:00Z'),
  });

  beforeAll(async () => {
    h = await startCommandApiHarness();
    const password = () => randomBytes(12).toString('hex');
    projectorUrl = await ensureMemberLogin(h.database.url, { role: logins[0]!, password: password(), memberOf: 'projection_writer' });
    queryUrl = await ensureMemberLogin(h.database.url, { role: logins[1]!, password: password(), memberOf: 'read_model_reader' });
    writerUrl = await ensureMemberLogin(h.database.url, { role: logins[2]!, password: password(), memberOf: 'payments_writer' });
    const env = { NATS_URL: h.nats.url, MERCHANT_JWT_SECRET: SECRET };
    projector = await AppProcess.start(PROJECTOR, { ...env, DATABASE_URL: projectorUrl });
    queryApi = await AppProcess.start(QUERY_API, { ...env, DATABASE_URL: queryUrl });
  });
  afterAll(async () => {
    await queryApi?.stop();
    await projector?.stop();
    const adminUrl = h?.database.url;
    await h?.close();
    // Roles are cluster-wide; their objects went with the test's database.
    if (adminUrl) {
      const postgres = new URL(adminUrl);
      postgres.pathname = '/postgres';
      await withClient(postgres.toString(), async (client) => {
        for (const login of logins) await client.query(`drop role if exists ${login}`);
      });
    }
  });

  it('projects and answers exactly: the projector installs v3 in a schema it may not create itself, and the analysts’ views keep their owner', async () => {
    expect(await sendEvents(h.url, h.key, events, 300)).toBe(600);
    const mine = events.filter((e) => e.merchantId === MERCHANT);
    const completed = mine.flatMap((e) => (e.paymentCompleted ? [e.paymentCompleted] : []));
    const expected = new Map<string, { count: number; gross: bigint }>();
    for (const c of completed) {
      const sum = expected.get(c.amount.currency) ?? { count: 0, gross: 0n };
      sum.count++;
      sum.gross += BigInt(c.amount.minorUnits);
      expected.set(c.amount.currency, sum);
    }
    const token = await signMerchantToken(SECRET, { kind: 'merchant', merchantId: MERCHANT }, { ttlSeconds: 600 });
    const query = `{ merchantMetrics(merchantId: "${MERCHANT}", from: "2026-10-01T00:00:00Z", to: "2026-10-08T00:00:00Z", granularity: DAY) {
      freshness { version } totals { currency transactionCount grossAmount } } }`;
    await eventually(async () => {
      const res = await fetch(`${queryApi.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
      const body = (await res.json()) as { data?: { merchantMetrics: { freshness: { version: number }; totals: Array<{ currency: string; transactionCount: number; grossAmount: string }> } } };
      expect(body.data?.merchantMetrics.freshness.version).toBe(3);
      expect(body.data?.merchantMetrics.totals).toEqual(
        [...expected.keys()].sort().map((currency) => ({ currency, transactionCount: expected.get(currency)!.count, grossAmount: String(expected.get(currency)!.gross) })),
      );
    }, 30_000);

    await withClient(h.database.url, async (client) => {
      const schema = await client.query(`select nspowner::regrole::text as owner from pg_namespace where nspname = 'rm_merchant_metrics_v3'`);
      expect(schema.rows).toEqual([{ owner: 'projection_writer' }]);
      // Made by the migrating role; the projector's go-live replaced them through the security-definer refresh.
      const views = await client.query(`select distinct viewowner::text as owner from pg_views where schemaname = 'analytics'`);
      expect(views.rows).toEqual([{ owner: new URL(h.database.url).username }]);
      const daily = await client.query(`select sum(completed_count)::int as n from analytics.merchant_metrics_daily where merchant_id = $1`, [MERCHANT]);
      expect(daily.rows[0].n).toBe(completed.length);
    });
  });

  it('the projector reads the event store and never writes it; it creates no schema of its own', async () => {
    expect(await outcome(projectorUrl, 'select count(*) from event_store.events')).toBe('ok');
    expect(await outcome(projectorUrl, `insert into event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload)
      values (0, 999999, gen_random_uuid(), 'x', 'PaymentCompleted', now(), '{}')`)).toBe('42501');
    expect(await outcome(projectorUrl, 'update event_store.partition_heads set head = head')).toBe('42501');
    expect(await outcome(projectorUrl, 'alter table event_store.events_p00 disable trigger user')).toBe('42501');
    expect(await outcome(projectorUrl, 'create schema lp_own')).toBe('42501');
    // The definer function makes only the schema of a version being installed.
    expect(await outcome(projectorUrl, `select projections.create_version_schema('lp_own')`)).toBe('42501');
    expect(await outcome(projectorUrl, `select projections.create_version_schema('rm_merchant_metrics_v3')`)).toBe('42501');
    expect(await outcome(projectorUrl, 'delete from access.producer_apps')).toBe('42501');
  });

  it('the query API reads the read model and freshness columns only, and writes nothing', async () => {
    expect(await outcome(queryUrl, 'select count(*) from rm_merchant_metrics_v3.metrics_daily')).toBe('ok');
    expect(await outcome(queryUrl, 'select position, recorded_at from event_store.events_p00 limit 1')).toBe('ok');
    expect(await outcome(queryUrl, 'select payload from event_store.events_p00 limit 1')).toBe('42501');
    expect(await outcome(queryUrl, 'select merchant_id from event_store.events limit 1')).toBe('42501');
    expect(await outcome(queryUrl, 'delete from rm_merchant_metrics_v3.metrics_daily')).toBe('42501');
    expect(await outcome(queryUrl, 'update projections.live set version = version')).toBe('42501');
    expect(await outcome(queryUrl, 'select key_hash from access.producer_apps')).toBe('42501');
    expect(await outcome(queryUrl, `select projections.create_version_schema('rm_merchant_metrics_v9')`)).toBe('42501');
  });

  it('payments_writer may look producer apps up, not create or change them', async () => {
    expect(await outcome(writerUrl, 'select count(*) from access.producer_apps')).toBe('ok');
    expect(await outcome(writerUrl, `insert into access.producer_apps (app_id, name, key_hash) values (gen_random_uuid(), 'lp-rogue', '\\x00')`)).toBe('42501');
    expect(await outcome(writerUrl, 'update access.producer_apps set revoked_at = null')).toBe('42501');
  });
});
