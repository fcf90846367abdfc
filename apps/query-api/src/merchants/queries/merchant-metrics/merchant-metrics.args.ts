import { ArgsType, Field, ID } from '@nestjs/graphql';
import { DateTimeScalar } from '../../../graphql/date-time.scalar.js';
import { Comparison, Dimension, Granularity } from './merchant-metrics.enums.js';

type Values<T> = T[keyof T];

@ArgsType()
export class MerchantMetricsArgs {
  @Field(() => ID, { description: 'The merchant; a merchant token may name only its own.' })
  merchantId!: string;

  @Field(() => DateTimeScalar, { description: 'Start of the range, inclusive; widened down to the start of its bucket.' })
  from!: Date;

  @Field(() => DateTimeScalar, { description: 'End of the range, exclusive; widened up to the end of its bucket.' })
  to!: Date;

  @Field(() => Granularity, { description: 'Bucket width of the series.' })
  granularity!: Values<typeof Granularity>;

  @Field(() => String, { nullable: true, defaultValue: 'UTC', description: 'IANA time zone the buckets align to, e.g. Asia/Tokyo or America/New_York.' })
  timeZone!: string | null;

  @Field(() => [Dimension], { nullable: true, defaultValue: [], description: 'Split the series by these dimensions (they are always split by currency).' })
  groupBy!: Array<Values<typeof Dimension>> | null;

  @Field(() => Comparison, { nullable: true, description: 'Also return each bucket of an earlier period, in Point.previous.' })
  compareTo!: Values<typeof Comparison> | null;
}
