import type { MetricsQuery } from '@app/merchant-metrics';
import type { SqlClient } from '@app/projections';
import { withClient } from '../support/stack.js';

/** The index a team without a read model would add to the store for these questions. */
export const BASELINE_INDEX = 'bench_skew_events_merchant_time';

/**
 * Builds the baseline's index on the event store (a partitioned index: one
 * per partition) unless it exists; returns how long that took and its size.
 */
export async function ensureBaselineIndex(url: string): Promise<{ seconds: number; bytes: number; built: boolean }> {
  return withClient(url, async (c) => {
    const exists = (await c.query('select 1 from pg_class where relname = $1', [BASELINE_INDEX])).rows.length > 0;
    const started = performance.now();
    if (!exists) {
      await c.query(`set maintenance_work_mem = '512MB'`);
      await c.query(`create index ${BASELINE_INDEX} on event_store.events (merchant_id, occurred_at)`);
    }
    const seconds = (performance.now() - started) / 1000;
    return { seconds, bytes: await baselineIndexBytes(c), built: !exists };
  });
}

export async function baselineIndexBytes(client: SqlClient): Promise<number> {
  const { rows } = await client.query<{ bytes: string }>(
    `select coalesce(sum(pg_relation_size(relid)), 0)::text as bytes from pg_partition_tree($1::regclass)`, [`event_store.${BASELINE_INDEX}`]);
  return Number(rows[0].bytes);
}

const UNITS = { HOUR: 'hour', DAY: 'day', WEEK: 'week', MONTH: 'month', QUARTER: 'quarter', YEAR: 'year' } as const;

/** A row of the baseline: `ord` numbers the buckets from the first of the comparison period; null in the per-currency totals. */
export interface BaselineRow {
  ord: number | null;
  n: number;
  currency: string;
  method: string;
  store: string;
  completed: string;
  gross: string;
  refunds: string;
  refunded: string;
  failed: string;
  customers: string;
}

/**
 * The same answer as the read model's, straight from the raw events with one
 * GROUP BY statement: buckets of the range widened to whole local buckets
 * (date_trunc in the zone), the same number of buckets before it for
 * PREVIOUS_PERIOD, completed and failed payments in the bucket of their
 * occurredAt, refunds in the bucket of the payment they refund (version 2's
 * rule; one scan of the merchant's events from the first period's start, a
 * window over each payment id placing its refunds; every generated refund
 * follows its payment),
 * distinct paying customers per bucket and series and per currency over the
 * range. Parameters: $1 merchant, $2 from, $3 to, $4 zone.
 */
export function baselineSql(query: MetricsQuery): string {
  const unit = UNITS[query.granularity];
  const step = `interval '1 ${unit}'`;
  const method = query.groupBy.includes('PAYMENT_METHOD') ? 'f.method' : `''`;
  const store = query.groupBy.includes('STORE') ? 'f.store' : `''`;
  const comparisonStart = query.compareTo === 'PREVIOUS_PERIOD' ? `date_trunc('${unit}', date_add(s, -n * ${step}, $4), $4)` : 's';
  if (query.compareTo !== undefined && query.compareTo !== 'PREVIOUS_PERIOD') throw new Error(`the baseline has no ${query.compareTo}`);
  const kindOf = (kind: string) => `filter (where f.kind = '${kind}')`;
  return `
with widened as (
  select date_trunc('${unit}', $2::timestamptz, $4) as s,
         date_add(date_trunc('${unit}', $3::timestamptz - interval '1 microsecond', $4), ${step}, $4) as e
), counted as (
  select s, e, (select count(*) from generate_series(s, e - interval '1 microsecond', ${step}, $4))::int as n from widened
), r as (
  select s, e, n, ${comparisonStart} as cs from counted
), buckets as (
  select g.start, g.ord::int as ord from r, generate_series(r.cs, r.e - interval '1 microsecond', ${step}, $4) with ordinality as g(start, ord)
), scanned as materialized (
  select e.occurred_at as t,
         case e.event_type when 'payment_completed' then 'c' when 'payment_failed' then 'f' else 'r' end as kind,
         b->'amount'->>'currency' as currency, substr(b->>'method', 16) as method, b->>'storeId' as store,
         (b->'amount'->>'minorUnits')::bigint as amount,
         case when e.event_type = 'payment_completed' then b->>'customerId' end as customer, b->>'paymentId' as payment_id
  from event_store.events e
  cross join lateral (select coalesce(e.payload->'paymentCompleted', e.payload->'paymentFailed', e.payload->'paymentRefunded') as b) x
  where e.merchant_id = $1 and e.occurred_at >= (select r.cs from r)
    and (e.occurred_at < (select r.e from r) or e.event_type = 'payment_refunded')
), facts as materialized (
  -- A refund moves to the time of the payment it refunds; without one in the periods read, it is in neither.
  -- (Over the narrow rows extracted above: sorting whole payloads by payment id would spill to disk.)
  select t, kind, currency, method, store, amount, customer
  from (select case when kind = 'r' then min(t) filter (where kind = 'c') over (partition by payment_id) else t end as t,
               kind, currency, method, store, amount, customer
        from scanned) placed
  where t is not null
)
select k.ord, (select r.n from r) as n, f.currency, ${method} as method, ${store} as store,
       count(*) ${kindOf('c')} as completed, coalesce(sum(f.amount) ${kindOf('c')}, 0)::text as gross,
       count(*) ${kindOf('r')} as refunds, coalesce(sum(f.amount) ${kindOf('r')}, 0)::text as refunded,
       count(*) ${kindOf('f')} as failed, count(distinct f.customer) as customers
from facts f join buckets k on k.start = date_trunc('${unit}', f.t, $4)
group by 1, 2, 3, 4, 5
union all
select null, (select r.n from r), f.currency, '', '', 0, '0', 0, '0', 0, count(distinct f.customer)
from facts f where f.kind = 'c' and f.t >= (select r.s from r) and f.t < (select r.e from r)
group by f.currency`;
}

export async function runBaseline(client: SqlClient, query: MetricsQuery): Promise<BaselineRow[]> {
  const { rows } = await client.query<BaselineRow>(baselineSql(query), [query.merchantId, query.from.toISOString(), query.to.toISOString(), query.timeZone]);
  return rows;
}
