import { loadQueryApiConfig, readInt, readMonitoringConfig, type MonitoringConfig, type QueryApiConfig } from '@app/config';
import { DEFAULT_QUERY_LIMITS } from '@app/merchant-metrics';

/** The query API's configuration: @app/config's, plus the read side's series cap, the coarse ranges, the statement timeout and the admin port. */
export interface QueryApiSettings extends QueryApiConfig, MonitoringConfig {
  /** Most series in one answer (QUERY_MAX_SERIES). */
  maxSeries: number;
  /** Longest QUARTER and YEAR ranges, in days (QUERY_MAX_RANGE_DAYS_QUARTER, QUERY_MAX_RANGE_DAYS_YEAR). */
  maxRangeDaysQuarter: number;
  maxRangeDaysYear: number;
  /** PostgreSQL's statement_timeout on the query pool (QUERY_STATEMENT_TIMEOUT_MS); 0 turns it off. */
  statementTimeoutMs: number;
}

type Env = Record<string, string | undefined>;

/**
 * Validates every variable at start-up, failing with its name. The coarse
 * ranges default to the reader's defaults, or to QUERY_MAX_RANGE_DAYS when it
 * is longer: a coarser bucket is never refused a range a finer one is allowed.
 */
export function loadQueryApiSettings(env: Env = process.env): QueryApiSettings {
  const config = loadQueryApiConfig(env);
  const defaults = DEFAULT_QUERY_LIMITS.maxRangeDays;
  // A century: the statement timeout, not this bound, is what keeps such a range affordable.
  const coarseBounds = { min: 1, max: 36_600 };
  return {
    ...config,
    maxSeries: readInt(env, 'QUERY_MAX_SERIES', DEFAULT_QUERY_LIMITS.maxSeries, { min: 1, max: 100_000 }),
    maxRangeDaysQuarter: readInt(env, 'QUERY_MAX_RANGE_DAYS_QUARTER', Math.max(config.maxRangeDays, defaults.QUARTER), coarseBounds),
    maxRangeDaysYear: readInt(env, 'QUERY_MAX_RANGE_DAYS_YEAR', Math.max(config.maxRangeDays, defaults.YEAR), coarseBounds),
    statementTimeoutMs: readInt(env, 'QUERY_STATEMENT_TIMEOUT_MS', 5000, { min: 0, max: 600_000 }),
    ...readMonitoringConfig(env, { variable: 'QUERY_API_ADMIN_PORT', fallback: 9401 }, { variable: 'QUERY_API_PORT', port: config.port }),
  };
}

/** The validated configuration, injectable by class. */
export class QueryApiConfigRef {
  constructor(readonly value: QueryApiSettings) {}
}
