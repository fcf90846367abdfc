import { Field, Float, Int, ObjectType } from '@nestjs/graphql';
import { DateTimeScalar } from '../../../graphql/date-time.scalar.js';
import { MetricValuesModel } from './metric-values.type.js';

@ObjectType('Freshness', { description: 'How current the answer is: the watermark of the data it was computed from.' })
export class FreshnessModel {
  @Field(() => DateTimeScalar, { description: 'Every payment event recorded before this instant is included in the answer.' })
  asOf!: Date;

  @Field(() => Float, { description: 'Seconds between asOf and the moment the answer was computed.' })
  lagSeconds!: number;

  @Field(() => Int, { description: 'Version of the read model that answered; it changes when a rebuilt version goes live.' })
  version!: number;

  @Field(() => Float, {
    nullable: true,
    description: "Only when a hot standby answered (the replicated topology's read port): seconds since the last transaction it replayed committed on the primary; asOf is no later than that. Null when the primary answered.",
  })
  replicaLagSeconds!: number | null;
}

@ObjectType('Point', { description: 'One bucket of a series.' })
export class PointModel {
  @Field(() => DateTimeScalar, { description: "Start of the bucket (inclusive); it ends where the next one starts, in the query's timeZone." })
  start!: Date;

  @Field(() => MetricValuesModel, { description: 'The bucket\'s metrics; zeros when nothing happened.' })
  values!: MetricValuesModel;

  @Field(() => MetricValuesModel, { nullable: true, description: 'The comparison bucket\'s metrics (see compareTo); null without compareTo.' })
  previous!: MetricValuesModel | null;
}

@ObjectType('Series', { description: 'A time series for one currency and, when grouped, one payment method and/or store.' })
export class SeriesModel {
  @Field(() => String, { description: 'ISO 4217 code of every amount in the series.' })
  currency!: string;

  @Field(() => String, { nullable: true, description: 'Payment method (CARD, WALLET, QR, BANK_TRANSFER, POINTS) when grouped by PAYMENT_METHOD, else null.' })
  paymentMethod!: string | null;

  @Field(() => String, { nullable: true, description: 'Store id when grouped by STORE, else null.' })
  storeId!: string | null;

  @Field(() => [PointModel], { description: 'Every bucket of the range in order, including empty ones (zero-filled).' })
  points!: PointModel[];
}

@ObjectType('MetricsResult', { description: "A merchant's metrics over a range, with the freshness of the data behind them." })
export class MetricsResultModel {
  @Field(() => FreshnessModel, { description: 'How current this answer is.' })
  freshness!: FreshnessModel;

  @Field(() => [MetricValuesModel], { description: 'The whole range, one entry per currency seen in it.' })
  totals!: MetricValuesModel[];

  @Field(() => [SeriesModel], { description: 'Bucketed series, one per currency (and per group when groupBy is given).' })
  series!: SeriesModel[];
}
