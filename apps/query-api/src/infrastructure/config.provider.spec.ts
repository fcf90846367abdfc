import { describe, expect, it } from 'vitest';
import { readerLimits } from '../merchants/queries/merchant-metrics/sql-merchant-metrics.service.js';
import { loadQueryApiSettings } from './config.provider.js';

const DATABASE_URL = 'postgres://localhost/x';

describe('query API settings', () => {
  it('defaults: 1000 series, 5 s statement timeout, 5 and 10 years of QUARTER and YEAR', () => {
    const settings = loadQueryApiSettings({ DATABASE_URL });
    expect(settings).toMatchObject({ maxSeries: 1000, statementTimeoutMs: 5000, maxRangeDays: 400, maxRangeDaysQuarter: 1830, maxRangeDaysYear: 3660 });
    expect(readerLimits(settings)).toEqual({
      maxBuckets: 1000,
      maxGroupBy: 2,
      maxSeries: 1000,
      maxRangeDays: { HOUR: 31, DAY: 400, WEEK: 400, MONTH: 400, QUARTER: 1830, YEAR: 3660 },
    });
  });

  it('reads every limit; QUERY_MAX_RANGE_DAYS also lengthens QUARTER and YEAR ranges that would be shorter', () => {
    const settings = loadQueryApiSettings({ DATABASE_URL, QUERY_MAX_RANGE_DAYS: '2000', QUERY_MAX_SERIES: '50', QUERY_STATEMENT_TIMEOUT_MS: '0' });
    expect(readerLimits(settings)).toEqual({
      maxBuckets: 1000,
      maxGroupBy: 2,
      maxSeries: 50,
      maxRangeDays: { HOUR: 31, DAY: 2000, WEEK: 2000, MONTH: 2000, QUARTER: 2000, YEAR: 3660 },
    });
    expect(settings.statementTimeoutMs).toBe(0);
    const coarse = loadQueryApiSettings({ DATABASE_URL, QUERY_MAX_RANGE_DAYS: '30', QUERY_MAX_RANGE_DAYS_QUARTER: '731', QUERY_MAX_RANGE_DAYS_YEAR: '18300' });
    expect(readerLimits(coarse).maxRangeDays).toEqual({ HOUR: 30, DAY: 30, WEEK: 30, MONTH: 30, QUARTER: 731, YEAR: 18300 });
  });

  it('puts /metrics on QUERY_API_ADMIN_PORT (9401) on 127.0.0.1, whatever HOST says, and never on the API port', () => {
    expect(loadQueryApiSettings({ DATABASE_URL, HOST: '0.0.0.0', MERCHANT_JWT_SECRET: 'z'.repeat(32) }))
      .toMatchObject({ host: '0.0.0.0', port: 4001, adminHost: '127.0.0.1', adminPort: 9401, readinessIntervalMs: 1000, readinessTimeoutMs: 2000 });
    expect(() => loadQueryApiSettings({ DATABASE_URL, QUERY_API_ADMIN_PORT: '4001' })).toThrow('QUERY_API_ADMIN_PORT must differ from QUERY_API_PORT (both 4001)');
  });

  it('fails fast on a bad value, naming the variable', () => {
    expect(() => loadQueryApiSettings({ DATABASE_URL, QUERY_MAX_SERIES: '0' })).toThrow('QUERY_MAX_SERIES must be between 1 and 100000, got 0');
    expect(() => loadQueryApiSettings({ DATABASE_URL, QUERY_STATEMENT_TIMEOUT_MS: '5s' })).toThrow('QUERY_STATEMENT_TIMEOUT_MS must be an integer, got "5s"');
    expect(() => loadQueryApiSettings({ DATABASE_URL, QUERY_MAX_RANGE_DAYS_YEAR: '40000' })).toThrow('QUERY_MAX_RANGE_DAYS_YEAR must be between 1 and 36600, got 40000');
  });
});
