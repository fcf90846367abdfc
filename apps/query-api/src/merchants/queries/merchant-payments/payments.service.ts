import { Inject, Injectable, Logger } from '@nestjs/common';
import type pg from 'pg';
import {
  DEFAULT_PAYMENT_PAGE_SIZE, findPayment, PAYMENTS_PROJECTION, PaymentSearchError, readPaymentHistory, searchPayments,
  type PaymentHistoryEvent, type PaymentPage, type PaymentPageRequest, type PaymentSummary,
} from '@app/merchant-payments';
import { LiveVersionCache, NoLiveVersionError } from '@app/projections';
import { ErrorCode } from '../../../errors/error-codes.js';
import type { MetricsFailure } from '../../../errors/metrics-failure.js';
import { QueryApiConfigRef } from '../../../infrastructure/config.provider.js';
import { isStatementTimeout } from '../../../infrastructure/query-pool.js';
import { PG_POOL } from '../../../infrastructure/tokens.js';

export interface PaymentWithHistory extends PaymentSummary {
  history: PaymentHistoryEvent[];
  /** Events of the payment the hot store no longer holds (moved to the cold archive). */
  archivedEvents: number;
}

/**
 * Payment search for GraphQL and REST alike: the live version of
 * merchant-payments, the search's own refusals, and the same failure codes
 * as the metrics (paymentsFailureOf).
 */
@Injectable()
export class PaymentsService {
  private readonly live: LiveVersionCache;

  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {
    this.live = new LiveVersionCache(pool, PAYMENTS_PROJECTION);
  }

  async search(request: Omit<PaymentPageRequest, 'first'> & { first?: number }): Promise<PaymentPage> {
    const live = await this.live.get();
    return searchPayments(this.pool, live.schemaName, { ...request, first: request.first ?? DEFAULT_PAYMENT_PAGE_SIZE });
  }

  /** The payment with its events, or undefined when the merchant has no such payment. */
  async payment(merchantId: string, paymentId: string): Promise<PaymentWithHistory | undefined> {
    const live = await this.live.get();
    const payment = await findPayment(this.pool, live.schemaName, merchantId, paymentId);
    if (!payment) return undefined;
    const { events, missing } = await readPaymentHistory(this.pool, payment);
    return { ...payment, history: events, archivedEvents: missing };
  }
}

const logger = new Logger('Payments');

/** What a failed payments question tells the client: as metricsFailureOf does for metrics. */
export function paymentsFailureOf(error: unknown, config: QueryApiConfigRef): MetricsFailure | undefined {
  if (error instanceof PaymentSearchError) return { code: ErrorCode.BAD_USER_INPUT, message: error.message };
  if (error instanceof NoLiveVersionError) return { code: ErrorCode.UNAVAILABLE, message: 'the payments read model has no live version yet; retry later' };
  if (isStatementTimeout(error)) {
    logger.warn('statement timeout in a payment search');
    return { code: ErrorCode.QUERY_TIMEOUT, message: `the search took longer than ${config.value.statementTimeoutMs} ms and was cancelled; narrow the filter or retry later` };
  }
  return undefined;
}
