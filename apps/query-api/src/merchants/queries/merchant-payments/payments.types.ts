import { ArgsType, Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { PAYMENT_STATUSES, type PaymentStatus as PaymentStatusValue } from '@app/merchant-payments';
import { DateTimeScalar } from '../../../graphql/date-time.scalar.js';
import { SafeIntScalar } from '../../../graphql/safe-int.scalar.js';

/** The GraphQL enum carries the search's own values, so mapping is the identity. */
export const PaymentStatus = Object.fromEntries(PAYMENT_STATUSES.map((s) => [s, s])) as { [K in PaymentStatusValue]: K };

registerEnumType(PaymentStatus, {
  name: 'PaymentStatus',
  description: 'A payment\'s state from all its events, whatever order they arrived in.',
  valuesMap: {
    COMPLETED: { description: 'Completed and not refunded (a failure reported after the completion does not undo it; failedCount shows it).' },
    PARTIALLY_REFUNDED: { description: 'Completed; refunds add up to less than its amount.' },
    REFUNDED: { description: 'Completed; refunds add up to its amount or more (overRefunded when more).' },
    FAILED: { description: 'Failed, and no completion is known.' },
    REFUND_ONLY: { description: 'Only refunds are known: the payment itself was never received (or is older than the data).' },
  },
});

@InputType('PaymentFilter', {
  description:
    'Which payments: the combinations an index serves are paymentId (with anything); customerId (with storeId, method, status, minAmount, maxAmount); ' +
    'one of storeId, method or status; or none; each with an optional from/to. Any other combination is refused with BAD_USER_INPUT.',
})
export class PaymentFilterInput {
  @Field(() => ID, { nullable: true, description: 'Exactly this payment.' }) paymentId?: string;
  @Field(() => ID, { nullable: true, description: "One customer's payments." }) customerId?: string;
  @Field(() => String, { nullable: true, description: "One store's payments." }) storeId?: string;
  @Field(() => String, { nullable: true, description: 'Short method name: CARD, WALLET, QR, BANK_TRANSFER, POINTS.' }) method?: string;
  @Field(() => PaymentStatus, { nullable: true, description: 'Payments in this state.' }) status?: PaymentStatusValue;
  @Field(() => String, { nullable: true, description: 'Least amount, integer minor units, inclusive (with customerId or paymentId).' }) minAmount?: string;
  @Field(() => String, { nullable: true, description: 'Greatest amount, integer minor units, inclusive (with customerId or paymentId).' }) maxAmount?: string;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Payments at or after this time.' }) from?: Date;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Payments before this time.' }) to?: Date;
}

@ArgsType()
export class PaymentsArgs {
  @Field(() => ID, { description: 'The merchant; a merchant token may name only its own.' })
  merchantId!: string;

  @Field(() => PaymentFilterInput, { nullable: true, description: 'Which payments; none: all of the merchant.' })
  filter?: PaymentFilterInput | null;

  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'Page size, 1 to 100.' })
  first!: number;

  @Field(() => String, { nullable: true, description: 'endCursor of the previous page (with the same filter).' })
  after?: string | null;
}

@ArgsType()
export class PaymentArgs {
  @Field(() => ID, { description: 'The merchant; a merchant token may name only its own.' }) merchantId!: string;
  @Field(() => ID, { description: "The producer's payment id." }) paymentId!: string;
}

@ObjectType('PaymentEvent', { description: 'One stored event of a payment.' })
export class PaymentEventModel {
  @Field(() => SafeIntScalar, { description: "Position in the merchant's event-store partition." }) position!: number;
  @Field(() => ID, { description: 'The id the producer gave the event.' }) eventId!: string;
  @Field(() => String, { description: 'payment_completed, payment_failed or payment_refunded.' }) type!: string;
  @Field(() => DateTimeScalar, { description: 'When it happened, as the producer said.' }) occurredAt!: Date;
  @Field(() => DateTimeScalar, { description: 'When the store recorded it.' }) recordedAt!: Date;
  @Field(() => String, { description: 'The event as stored: canonical proto3 JSON, as text.' }) payloadJson!: string;
}

@ObjectType('Payment', { description: "One payment's current state. Amounts are strings of integer minor units." })
export class PaymentModel {
  @Field(() => ID, { description: "The producer's payment id." }) paymentId!: string;
  @Field(() => PaymentStatus, { description: 'Its state from all its events.' }) status!: PaymentStatusValue;
  @Field(() => DateTimeScalar, { description: 'Its completion, else its failure, else its first refund.' }) occurredAt!: Date;
  @Field(() => String, { description: 'ISO 4217 code of its amounts.' }) currency!: string;
  @Field(() => String, { nullable: true, description: 'Null when only refunds are known.' }) amount!: string | null;
  @Field(() => String, { description: 'Sum of its refunds, in integer minor units.' }) refundedAmount!: string;
  @Field(() => SafeIntScalar, { description: 'Refunds of it.' }) refundCount!: number;
  @Field(() => Boolean, { description: 'Refunds exceed the amount.' }) overRefunded!: boolean;
  @Field(() => SafeIntScalar, { description: 'Completion events for it (more than 1: the producer reported it twice with different event ids).' }) completedCount!: number;
  @Field(() => SafeIntScalar, { description: 'Failure events for it.' }) failedCount!: number;
  @Field(() => String, { description: 'The store, as the producer sent it.' }) storeId!: string;
  @Field(() => String, { description: 'Short method name: CARD, WALLET, QR, BANK_TRANSFER, POINTS.' }) method!: string;
  @Field(() => ID, { nullable: true, description: 'The paying customer; null when only refunds are known.' }) customerId!: string | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Its first failure, if any.' }) failedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'The first failure\'s reason (read-model version 2 on).' }) failureReason!: string | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Its latest refund, if any.' }) lastRefundAt!: Date | null;
  @Field(() => SafeIntScalar, { description: 'Events known for it (its history holds the first 1,000).' }) eventCount!: number;
}

@ObjectType('PaymentDetail', { description: 'A payment with its events.' })
export class PaymentDetailModel extends PaymentModel {
  @Field(() => [PaymentEventModel], { description: 'Its events in the hot store, in position order.' }) history!: PaymentEventModel[];
  @Field(() => SafeIntScalar, { description: 'Its events moved to the cold archive (not in history).' }) archivedEvents!: number;
}

@ObjectType('PaymentPageInfo', { description: 'Where a page of payments ends.' })
export class PaymentPageInfoModel {
  @Field(() => Boolean, { description: 'More payments follow this page.' }) hasNextPage!: boolean;
  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page.' }) endCursor!: string | null;
}

@ObjectType('PaymentConnection', { description: 'A page of payments, newest first.' })
export class PaymentConnectionModel {
  @Field(() => [PaymentModel], { description: 'The payments of the page, newest first.' }) nodes!: PaymentModel[];
  @Field(() => PaymentPageInfoModel, { description: 'Whether more follow, and the cursor to them.' }) pageInfo!: PaymentPageInfoModel;
}
