-- Completed payments and their gross amount per merchant, currency and UTC month of occurrence,
-- over every event in the cold archive. DuckDB SQL: run it with the archive directory as
-- file_search_path (docs/analysts.md, "The cold archive"). Amounts are minor units.
select merchant_id,
       strftime(occurred_at at time zone 'UTC', '%Y-%m') as utc_month,
       payload ->> '$.paymentCompleted.amount.currency' as currency,
       count(*) as completed_count,
       sum(cast(payload ->> '$.paymentCompleted.amount.minorUnits' as hugeint)) as gross_minor_units
from read_parquet('p*/*.parquet')
where event_type = 'payment_completed'
group by all
order by merchant_id, utc_month, currency;
