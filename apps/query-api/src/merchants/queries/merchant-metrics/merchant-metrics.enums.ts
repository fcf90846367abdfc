import { registerEnumType } from '@nestjs/graphql';
import type { Comparison as ComparisonValue, Dimension as DimensionValue, Granularity as GranularityValue } from '@app/merchant-metrics';

/** The GraphQL enums carry the read side's own values, so mapping arguments is the identity. */
export const Granularity = { HOUR: 'HOUR', DAY: 'DAY', WEEK: 'WEEK', MONTH: 'MONTH', QUARTER: 'QUARTER', YEAR: 'YEAR' } as const satisfies Record<
  GranularityValue,
  GranularityValue
>;
export const Dimension = { PAYMENT_METHOD: 'PAYMENT_METHOD', STORE: 'STORE' } as const satisfies Record<DimensionValue, DimensionValue>;
export const Comparison = { PREVIOUS_PERIOD: 'PREVIOUS_PERIOD', PREVIOUS_YEAR: 'PREVIOUS_YEAR' } as const satisfies Record<
  ComparisonValue,
  ComparisonValue
>;

registerEnumType(Granularity, {
  name: 'Granularity',
  description:
    "Width of a series' buckets. Buckets start at local midnight (or the hour) in the query's timeZone. Each has its own longest range: 31 days for HOUR, 400 for DAY, WEEK and MONTH, 1830 (5 years) for QUARTER, 3660 (10 years) for YEAR by default.",
  valuesMap: {
    HOUR: { description: 'One hour of wall-clock time; a DST change gives a 23- or 25-hour day.' },
    DAY: { description: 'A local calendar day (midnight to midnight in timeZone).' },
    WEEK: { description: 'An ISO week: Monday 00:00 to the next Monday 00:00 in timeZone.' },
    MONTH: { description: 'A local calendar month.' },
    QUARTER: { description: 'A local calendar quarter: from 1 January, 1 April, 1 July or 1 October at 00:00 in timeZone.' },
    YEAR: { description: 'A local calendar year: 1 January 00:00 to the next 1 January 00:00 in timeZone.' },
  },
});

registerEnumType(Dimension, {
  name: 'Dimension',
  description: 'What a series may be split by, in addition to currency (always split: amounts of different currencies never add up).',
  valuesMap: {
    PAYMENT_METHOD: { description: 'One series per payment method (CARD, WALLET, QR, BANK_TRANSFER, POINTS).' },
    STORE: { description: 'One series per store id, as the producer sent it.' },
  },
});

registerEnumType(Comparison, {
  name: 'Comparison',
  description: 'Which earlier bucket each point is compared with (Point.previous).',
  valuesMap: {
    PREVIOUS_PERIOD: { description: 'The range of the same length just before [from, to), bucket by bucket.' },
    PREVIOUS_YEAR: { description: 'The same local calendar buckets one year earlier (for YEAR: the year before).' },
  },
});
