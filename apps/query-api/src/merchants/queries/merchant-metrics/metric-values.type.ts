import { Field, Float, ObjectType } from '@nestjs/graphql';
import { SafeIntScalar } from '../../../graphql/safe-int.scalar.js';

/**
 * Amounts are strings of integer minor units (1200 JPY is "1200", 12.00 USD is
 * "1200"): they are 64-bit in the read model, beyond what a GraphQL Int or a
 * JavaScript number holds exactly. Counts are SafeInt: JSON numbers, exact to
 * 2^53 - 1, since a long range of a large merchant can pass 2^31.
 */
@ObjectType('MetricValues', { description: 'The metrics of one currency over one bucket or over the whole range.' })
export class MetricValuesModel {
  @Field(() => String, { description: 'ISO 4217 code; every amount below is in this currency.' })
  currency!: string;

  @Field(() => SafeIntScalar, { description: 'Completed payments.' })
  transactionCount!: number;

  @Field(() => String, { description: 'Sum of completed payments, in integer minor units.' })
  grossAmount!: string;

  @Field(() => SafeIntScalar, { description: 'Refunds counted in the bucket. Version 1 counts a refund when it happened; version 2 (a fix) in the bucket of the payment it refunds, when that payment is known. freshness.version says which answered.' })
  refundCount!: number;

  @Field(() => String, { description: 'Sum of refunds, in integer minor units.' })
  refundAmount!: string;

  @Field(() => String, { description: 'grossAmount minus refundAmount, in integer minor units; negative when refunds exceed sales.' })
  netAmount!: string;

  @Field(() => SafeIntScalar, { description: 'Failed payment attempts (not part of any amount).' })
  failedCount!: number;

  @Field(() => String, {
    nullable: true,
    description: 'grossAmount / transactionCount in integer minor units, rounded half away from zero; null when there was no completed payment.',
  })
  averageTicket!: string | null;

  @Field(() => Float, {
    nullable: true,
    description:
      'failedCount / (transactionCount + failedCount): the share of payment attempts that failed, from 0 to 1, as the double nearest the exact quotient ' +
      '(what dividing the two counts gives in JavaScript); null when nothing was attempted. Refunds are not attempts.',
  })
  failureRate!: number | null;

  @Field(() => SafeIntScalar, {
    description:
      'Distinct customers with at least one completed payment in this bucket (or, in totals, anywhere in the range); not the sum of the buckets. ' +
      'Exact when uniqueCustomersExact is true; from version 3 on, beyond 256 customers, an estimate from merged HyperLogLog sketches.',
  })
  uniqueCustomers!: number;

  @Field(() => Boolean, { description: 'Whether uniqueCustomers is exact (true) or an estimate (false; see uniqueCustomersStandardError).' })
  uniqueCustomersExact!: boolean;

  @Field(() => Float, {
    description: 'Relative standard error of uniqueCustomers: 0 when exact, else 0.0081 (0.81%, sketches of 2^14 registers); about 99% of estimates lie within 2.6 times it.',
  })
  uniqueCustomersStandardError!: number;
}
