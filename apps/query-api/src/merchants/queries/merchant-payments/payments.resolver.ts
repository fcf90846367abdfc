import { Args, Context, Query, Resolver } from '@nestjs/graphql';
import { assertMayRead } from '../../../auth/access-policy.js';
import { PAYMENTS_COST } from '../../../graphql/complexity.rule.js';
import { graphQLError } from '../../../graphql/graphql-errors.js';
import type { QueryContext } from '../../../graphql/query-context.js';
import { QueryApiConfigRef } from '../../../infrastructure/config.provider.js';
import { toPaymentDetail, toPaymentFilter, toPaymentModel } from './payments.mapper.js';
import { PaymentsService, paymentsFailureOf } from './payments.service.js';
import { PaymentArgs, PaymentConnectionModel, PaymentDetailModel, PaymentsArgs } from './payments.types.js';

/** Payment search over GraphQL: the same authorization as the metrics, then PaymentsService. */
@Resolver()
export class PaymentsResolver {
  constructor(
    private readonly payments: PaymentsService,
    private readonly config: QueryApiConfigRef,
  ) {}

  @Query(() => PaymentConnectionModel, {
    name: 'payments',
    complexity: PAYMENTS_COST,
    description: "A page of a merchant's payments, newest first, filtered (see PaymentFilter for the combinations served).",
  })
  async search(@Args() args: PaymentsArgs, @Context() context: QueryContext): Promise<PaymentConnectionModel> {
    assertMayRead(context.principal, args.merchantId);
    return this.answer(async () => {
      const page = await this.payments.search({
        merchantId: args.merchantId, filter: toPaymentFilter(args.filter ?? {}), first: args.first, after: args.after ?? undefined,
      });
      return { nodes: page.payments.map(toPaymentModel), pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
    });
  }

  @Query(() => PaymentDetailModel, { name: 'payment', nullable: true, complexity: PAYMENTS_COST, description: 'One payment with its events; null when the merchant has none with this id.' })
  async payment(@Args() args: PaymentArgs, @Context() context: QueryContext): Promise<PaymentDetailModel | null> {
    assertMayRead(context.principal, args.merchantId);
    return this.answer(async () => {
      const found = await this.payments.payment(args.merchantId, args.paymentId);
      return found ? toPaymentDetail(found) : null;
    });
  }

  private async answer<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const failure = paymentsFailureOf(error, this.config);
      if (failure !== undefined) throw graphQLError(failure.code, failure.message);
      throw error;
    }
  }
}
