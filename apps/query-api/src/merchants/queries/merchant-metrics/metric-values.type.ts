import { Field, Int, ObjectType } from '@nestjs/graphql';

/**
 * Amounts are strings of integer minor units (1200 JPY is "1200", 12.00 USD is
 * "1200"): they are 64-bit in the read model, beyond what a GraphQL Int or a
 * JavaScript number holds exactly.
 */
@ObjectType('MetricValues', { description: 'The metrics of one currency over one bucket or over the whole range.' })
export class MetricValuesModel {
  @Field(() => String, { description: 'ISO 4217 code; every amount below is in this currency.' })
  currency!: string;

  @Field(() => Int, { description: 'Completed payments.' })
  transactionCount!: number;

  @Field(() => String, { description: 'Sum of completed payments, in integer minor units.' })
  grossAmount!: string;

  @Field(() => Int, { description: 'Refunds counted in the bucket. Version 1 counts a refund when it happened; version 2 (a fix) in the bucket of the payment it refunds, when that payment is known. freshness.version says which answered.' })
  refundCount!: number;

  @Field(() => String, { description: 'Sum of refunds, in integer minor units.' })
  refundAmount!: string;

  @Field(() => String, { description: 'grossAmount minus refundAmount, in integer minor units; negative when refunds exceed sales.' })
  netAmount!: string;

  @Field(() => Int, { description: 'Failed payment attempts (not part of any amount).' })
  failedCount!: number;

  @Field(() => String, {
    nullable: true,
    description: 'grossAmount / transactionCount in integer minor units, rounded half away from zero; null when there was no completed payment.',
  })
  averageTicket!: string | null;

  @Field(() => Int, {
    description:
      'Exact number of distinct customers with at least one completed payment in this bucket (or, in totals, anywhere in the range); not an estimate, and not the sum of the buckets.',
  })
  uniqueCustomers!: number;
}
