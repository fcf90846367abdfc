import type { Logger } from '@nestjs/common';
import { QueryRejectedError, type MetricsQuery } from '@app/merchant-metrics';
import { NoLiveVersionError } from '@app/projections';
import { isStatementTimeout } from '../infrastructure/query-pool.js';
import { ErrorCode } from './error-codes.js';

/** An error of the read side as the client is told it. */
export interface MetricsFailure {
  code: ErrorCode;
  message: string;
}

/**
 * What a failed metrics question tells the client, the same for GraphQL and
 * REST: a question the reader refused is BAD_USER_INPUT with the reader's
 * message, no live version is UNAVAILABLE, a statement cancelled by
 * statement_timeout is QUERY_TIMEOUT (logged as a warning with the question,
 * so operators see what runs long). Anything else is not the client's to
 * know: undefined, and the caller lets it fail as an internal error.
 */
export function metricsFailureOf(error: unknown, query: MetricsQuery, statementTimeoutMs: number, logger: Logger): MetricsFailure | undefined {
  if (error instanceof QueryRejectedError) return { code: ErrorCode.BAD_USER_INPUT, message: error.message };
  if (error instanceof NoLiveVersionError) return { code: ErrorCode.UNAVAILABLE, message: 'the metrics read model has no live version yet; retry later' };
  if (isStatementTimeout(error)) {
    logger.warn(`statement timeout: ${query.merchantId} ${query.granularity} ${query.from.toISOString()}..${query.to.toISOString()} ${query.timeZone} groupBy [${query.groupBy.join(', ')}]`);
    return {
      code: ErrorCode.QUERY_TIMEOUT,
      message: `the question took longer than ${statementTimeoutMs} ms and was cancelled; ask for a shorter range, a coarser granularity or fewer groupBy dimensions, or retry later`,
    };
  }
  return undefined;
}
