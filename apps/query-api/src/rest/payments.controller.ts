import { Controller, Get, Param, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readRefusal } from '../auth/access-policy.js';
import { ErrorCode } from '../errors/error-codes.js';
import { parseDateTime } from '../graphql/date-time.scalar.js';
import '../graphql/query-context.js';
import { QueryApiConfigRef } from '../infrastructure/config.provider.js';
import { toPaymentDetail, toPaymentFilter, toPaymentModel } from '../merchants/queries/merchant-payments/payments.mapper.js';
import { PaymentsService, paymentsFailureOf } from '../merchants/queries/merchant-payments/payments.service.js';
import { ANSWER_CACHE_CONTROL } from './merchant-metrics.controller.js';
import { PROBLEM_TYPES, Problem, problemTypeOf } from './problem.js';
import { ProblemFilter } from './problem.filter.js';
import { PAYMENT_ROUTE, PAYMENTS_ROUTE } from './rest-paths.js';

const TEXT = ['paymentId', 'customerId', 'storeId', 'method', 'status', 'minAmount', 'maxAmount', 'after'] as const;
const TIMES = ['from', 'to'] as const;
const PARAMETERS = new Set<string>([...TEXT, ...TIMES, 'first']);

/** The query string as single values: an unknown parameter, or one given twice, is refused. */
function singleValues(parameters: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries((parameters ?? {}) as Record<string, unknown>)) {
    if (!PARAMETERS.has(name)) throw new Problem(PROBLEM_TYPES.badUserInput, `unknown parameter "${name.slice(0, 40)}" (known: ${[...PARAMETERS].join(', ')})`);
    if (typeof value !== 'string') throw new Problem(PROBLEM_TYPES.badUserInput, `parameter "${name}" is given more than once`);
    out[name] = value;
  }
  return out;
}

function time(values: Record<string, string>, name: string): Date | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  try {
    return parseDateTime(raw);
  } catch (error) {
    throw new Problem(PROBLEM_TYPES.badUserInput, `${name}: ${(error as Error).message}`);
  }
}

/**
 * GET /v1/merchants/{merchantId}/payments and …/payments/{paymentId}:
 * GraphQL's payments and payment over plain HTTP, from the same service,
 * authorization and failure codes. Authenticated before it gets here
 * (rest-authentication.hook.ts).
 */
@Controller()
@UseFilters(ProblemFilter)
export class PaymentsController {
  constructor(
    private readonly payments: PaymentsService,
    private readonly config: QueryApiConfigRef,
  ) {}

  @Get(PAYMENTS_ROUTE)
  async search(@Param('merchantId') merchantId: string, @Query() parameters: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    this.authorize(request, merchantId);
    const values = singleValues(parameters);
    const first = values.first === undefined ? undefined : Number(values.first);
    if (values.first !== undefined && !/^[0-9]{1,3}$/.test(values.first)) throw new Problem(PROBLEM_TYPES.badUserInput, 'first must be an integer from 1 to 100');
    const body = await this.answer(async () => {
      const filter = toPaymentFilter({ ...values, from: time(values, 'from'), to: time(values, 'to') });
      const page = await this.payments.search({ merchantId, filter, first, after: values.after });
      return { payments: page.payments.map(toPaymentModel), pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
    });
    await this.send(reply, body);
  }

  @Get(PAYMENT_ROUTE)
  async payment(@Param('merchantId') merchantId: string, @Param('paymentId') paymentId: string, @Query() parameters: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    this.authorize(request, merchantId);
    if (Object.keys((parameters ?? {}) as object).length > 0) throw new Problem(PROBLEM_TYPES.badUserInput, 'this resource takes no parameters');
    const found = await this.answer(() => this.payments.payment(merchantId, paymentId));
    if (!found) throw new Problem(PROBLEM_TYPES.notFound, `merchant "${merchantId}" has no payment "${paymentId.slice(0, 128)}"`);
    await this.send(reply, toPaymentDetail(found));
  }

  /** Authorization before anything else: a forbidden request learns nothing, not even whether its parameters are valid. */
  private authorize(request: FastifyRequest, merchantId: string): void {
    const refusal = readRefusal(request.principal!, merchantId);
    if (refusal !== undefined) throw new Problem(PROBLEM_TYPES.forbidden, refusal);
  }

  private async answer<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const failure = paymentsFailureOf(error, this.config);
      if (failure === undefined) throw error;
      throw new Problem(problemTypeOf(failure.code), failure.message, failure.code === ErrorCode.UNAVAILABLE ? { 'retry-after': '5' } : {});
    }
  }

  private async send(reply: FastifyReply, body: unknown): Promise<void> {
    await reply.code(200).headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': ANSWER_CACHE_CONTROL }).send(JSON.stringify(body));
  }
}
