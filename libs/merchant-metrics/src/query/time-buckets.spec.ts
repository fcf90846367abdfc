import { describe, expect, it } from 'vitest';
import { addInterval, bucketBoundaries, comparisonBuckets, floorToBucket } from './time-buckets.js';
import { isValidTimeZone, zoneOffsets } from './zone-offsets.js';

// Expected values are worked out by hand from the zones' rules: New York
// springs forward on 2026-03-08 at 07:00Z (02:00 EST -> 03:00 EDT) and falls
// back on 2026-11-01 at 06:00Z (02:00 EDT -> 01:00 EST).
const t = (iso: string) => Date.parse(iso);
const isos = (instants: number[]) => instants.map((x) => new Date(x).toISOString().replace('.000Z', 'Z'));
const NY = 'America/New_York';

describe('zone names and offsets', () => {
  it('accepts IANA Area/Location names and UTC, refuses abbreviations, offsets and unknown names', () => {
    for (const zone of ['America/New_York', 'Asia/Kolkata', 'Asia/Tokyo', 'UTC', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires']) {
      expect(isValidTimeZone(zone), zone).toBe(true);
    }
    for (const zone of ['CET', 'EST', '+05:30', 'Mars/Olympus', '', 'America/New York']) expect(isValidTimeZone(zone), zone).toBe(false);
  });

  it('finds the transition to the second', () => {
    const ny = zoneOffsets(NY);
    expect(ny.offsetAt(t('2026-03-08T06:59:59.999Z'))).toBe(-5 * 3_600_000);
    expect(ny.offsetAt(t('2026-03-08T07:00:00Z'))).toBe(-4 * 3_600_000);
    expect(ny.offsetAt(t('2026-11-01T05:59:59Z'))).toBe(-4 * 3_600_000);
    expect(ny.offsetAt(t('2026-11-01T06:00:00Z'))).toBe(-5 * 3_600_000);
    expect(zoneOffsets('Asia/Kolkata').offsetAt(t('2026-05-10T18:15:00Z'))).toBe(5.5 * 3_600_000);
  });
});

describe('America/New_York across both 2026 DST changes', () => {
  it('DAY: the 23-hour 8 March and the 25-hour 1 November', () => {
    expect(isos(bucketBoundaries(t('2026-03-07T12:00Z'), t('2026-03-09T12:00Z'), 'DAY', NY))).toEqual([
      '2026-03-07T05:00:00Z', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z', '2026-03-10T04:00:00Z',
    ]);
    expect(isos(bucketBoundaries(t('2026-10-31T04:00Z'), t('2026-11-02T05:00Z'), 'DAY', NY))).toEqual([
      '2026-10-31T04:00:00Z', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z',
    ]);
  });

  it('HOUR: the repeated 01:00 is two buckets; the skipped 02:00 is none', () => {
    expect(isos(bucketBoundaries(t('2026-11-01T04:00Z'), t('2026-11-01T07:30Z'), 'HOUR', NY))).toEqual([
      '2026-11-01T04:00:00Z', '2026-11-01T05:00:00Z', '2026-11-01T06:00:00Z', '2026-11-01T07:00:00Z', '2026-11-01T08:00:00Z',
    ]);
    expect(isos([floorToBucket(t('2026-11-01T05:59Z'), 'HOUR', NY), floorToBucket(t('2026-11-01T06:01Z'), 'HOUR', NY)])).toEqual([
      '2026-11-01T05:00:00Z', '2026-11-01T06:00:00Z',
    ]);
    expect(isos(bucketBoundaries(t('2026-03-08T06:00Z'), t('2026-03-08T08:00Z'), 'HOUR', NY))).toEqual([
      '2026-03-08T06:00:00Z', '2026-03-08T07:00:00Z', '2026-03-08T08:00:00Z',
    ]);
  });

  it('adds days like PostgreSQL: into the gap reads EST, into the overlap the later (EST) reading', () => {
    // 2026-03-07 02:30 EST + 1 day = 2026-03-08 02:30, which does not exist: 07:30Z (03:30 EDT).
    expect(isos([addInterval(t('2026-03-07T07:30Z'), 'DAY', 1, NY)])).toEqual(['2026-03-08T07:30:00Z']);
    // 2026-10-31 01:30 EDT + 1 day = 2026-11-01 01:30, which happens twice: the second, 06:30Z.
    expect(isos([addInterval(t('2026-10-31T05:30Z'), 'DAY', 1, NY)])).toEqual(['2026-11-01T06:30:00Z']);
    expect(isos([addInterval(t('2026-11-01T04:00Z'), 'HOUR', 3, NY)])).toEqual(['2026-11-01T07:00:00Z']);
  });

  it('WEEK starts on Monday, and the week of 8 March is 167 hours', () => {
    // Sunday 2026-03-08 23:00 EDT belongs to the week of Monday 2 March.
    expect(isos([floorToBucket(t('2026-03-09T03:00Z'), 'WEEK', NY)])).toEqual(['2026-03-02T05:00:00Z']);
    expect(isos(bucketBoundaries(t('2026-03-03T00:00Z'), t('2026-03-10T00:00Z'), 'WEEK', NY))).toEqual([
      '2026-03-02T05:00:00Z', '2026-03-09T04:00:00Z', '2026-03-16T04:00:00Z',
    ]);
    expect(isos([floorToBucket(t('2026-01-01T12:00Z'), 'WEEK', 'UTC')])).toEqual(['2025-12-29T00:00:00Z']);
  });

  it('MONTH ends in local time', () => {
    expect(isos([floorToBucket(t('2027-01-01T04:59Z'), 'MONTH', NY), floorToBucket(t('2027-01-01T05:00Z'), 'MONTH', NY)])).toEqual([
      '2026-12-01T05:00:00Z', '2027-01-01T05:00:00Z',
    ]);
  });

  it('QUARTER starts on 1 January, April, July and October at local midnight, in EST or EDT', () => {
    // 1 April is in summer time (04:00Z), 1 January in winter time (05:00Z).
    expect(isos([floorToBucket(t('2026-04-01T03:59Z'), 'QUARTER', NY), floorToBucket(t('2026-04-01T04:00Z'), 'QUARTER', NY)])).toEqual([
      '2026-01-01T05:00:00Z', '2026-04-01T04:00:00Z',
    ]);
    expect(isos(bucketBoundaries(t('2026-02-01T00:00Z'), t('2027-01-15T00:00Z'), 'QUARTER', NY))).toEqual([
      '2026-01-01T05:00:00Z', '2026-04-01T04:00:00Z', '2026-07-01T04:00:00Z', '2026-10-01T04:00:00Z', '2027-01-01T05:00:00Z', '2027-04-01T04:00:00Z',
    ]);
  });

  it('YEAR starts on 1 January at local midnight', () => {
    expect(isos([floorToBucket(t('2027-01-01T04:59Z'), 'YEAR', NY), floorToBucket(t('2027-01-01T05:00Z'), 'YEAR', NY)])).toEqual([
      '2026-01-01T05:00:00Z', '2027-01-01T05:00:00Z',
    ]);
    expect(isos(bucketBoundaries(t('2025-06-01T00:00Z'), t('2027-02-01T00:00Z'), 'YEAR', NY))).toEqual([
      '2025-01-01T05:00:00Z', '2026-01-01T05:00:00Z', '2027-01-01T05:00:00Z', '2028-01-01T05:00:00Z',
    ]);
  });
});

describe('other zones', () => {
  it('Asia/Tokyo DAY and MONTH (UTC+9, no DST)', () => {
    expect(isos([floorToBucket(t('2026-03-01T14:59Z'), 'DAY', 'Asia/Tokyo'), floorToBucket(t('2026-03-01T15:00Z'), 'DAY', 'Asia/Tokyo')])).toEqual([
      '2026-02-28T15:00:00Z', '2026-03-01T15:00:00Z',
    ]);
    expect(isos(bucketBoundaries(t('2026-01-15T00:00Z'), t('2026-04-01T00:00Z'), 'MONTH', 'Asia/Tokyo'))).toEqual([
      '2025-12-31T15:00:00Z', '2026-01-31T15:00:00Z', '2026-02-28T15:00:00Z', '2026-03-31T15:00:00Z', '2026-04-30T15:00:00Z',
    ]);
  });

  it('Asia/Kolkata (UTC+05:30): 18:15Z and 18:30Z fall in different days', () => {
    expect(isos([floorToBucket(t('2026-05-10T18:15Z'), 'DAY', 'Asia/Kolkata'), floorToBucket(t('2026-05-10T18:30Z'), 'DAY', 'Asia/Kolkata')])).toEqual([
      '2026-05-09T18:30:00Z', '2026-05-10T18:30:00Z',
    ]);
    expect(isos([floorToBucket(t('2026-05-10T18:15Z'), 'HOUR', 'Asia/Kolkata')])).toEqual(['2026-05-10T17:30:00Z']);
  });

  it('America/Santiago: after a day that starts at 01:00 (DST at midnight), the next day starts at 00:00 again', () => {
    expect(isos(bucketBoundaries(t('2026-09-05T12:00Z'), t('2026-09-08T12:00Z'), 'DAY', 'America/Santiago'))).toEqual([
      '2026-09-05T04:00:00Z', '2026-09-06T04:00:00Z', '2026-09-07T03:00:00Z', '2026-09-08T03:00:00Z', '2026-09-09T03:00:00Z',
    ]);
  });

  it('clamps month arithmetic to the month end like PostgreSQL', () => {
    expect(isos([addInterval(t('2026-01-31T00:00Z'), 'MONTH', 1, 'UTC'), addInterval(t('2028-01-31T00:00Z'), 'MONTH', 1, 'UTC')])).toEqual([
      '2026-02-28T00:00:00Z', '2028-02-29T00:00:00Z',
    ]);
    expect(isos([addInterval(t('2028-02-29T00:00Z'), 'YEAR', -1, 'UTC')])).toEqual(['2027-02-28T00:00:00Z']);
    // A quarter is three months: 30 November + 1 quarter = 28 February; 31 May - 1 quarter = 28 February.
    expect(isos([addInterval(t('2026-11-30T00:00Z'), 'QUARTER', 1, 'UTC'), addInterval(t('2026-05-31T00:00Z'), 'QUARTER', -1, 'UTC')])).toEqual([
      '2027-02-28T00:00:00Z', '2026-02-28T00:00:00Z',
    ]);
  });

  it('Asia/Tokyo QUARTER and YEAR (UTC+9): the new year starts at 15:00Z the day before', () => {
    expect(isos([floorToBucket(t('2026-12-31T14:59Z'), 'YEAR', 'Asia/Tokyo'), floorToBucket(t('2026-12-31T15:00Z'), 'YEAR', 'Asia/Tokyo')])).toEqual([
      '2025-12-31T15:00:00Z', '2026-12-31T15:00:00Z',
    ]);
    expect(isos([floorToBucket(t('2026-06-30T14:59Z'), 'QUARTER', 'Asia/Tokyo'), floorToBucket(t('2026-06-30T15:00Z'), 'QUARTER', 'Asia/Tokyo')])).toEqual([
      '2026-03-31T15:00:00Z', '2026-06-30T15:00:00Z',
    ]);
  });
});

describe('comparison buckets', () => {
  const nyDays = bucketBoundaries(t('2026-03-07T12:00Z'), t('2026-03-09T12:00Z'), 'DAY', NY).slice(0, -1);

  it('PREVIOUS_PERIOD: the same number of buckets just before', () => {
    const { starts, boundaries } = comparisonBuckets(nyDays, 'DAY', NY, 'PREVIOUS_PERIOD');
    expect(isos(starts)).toEqual(['2026-03-04T05:00:00Z', '2026-03-05T05:00:00Z', '2026-03-06T05:00:00Z']);
    expect(isos(boundaries)).toEqual([...isos(starts), '2026-03-07T05:00:00Z']);
    const hours = bucketBoundaries(t('2026-11-01T04:00Z'), t('2026-11-01T08:00Z'), 'HOUR', NY).slice(0, -1);
    expect(isos(comparisonBuckets(hours, 'HOUR', NY, 'PREVIOUS_PERIOD').starts)).toEqual([
      '2026-11-01T00:00:00Z', '2026-11-01T01:00:00Z', '2026-11-01T02:00:00Z', '2026-11-01T03:00:00Z',
    ]);
    const months = bucketBoundaries(t('2026-01-01T00:00Z'), t('2026-04-15T00:00Z'), 'MONTH', 'Asia/Tokyo').slice(0, -1);
    expect(isos(comparisonBuckets(months, 'MONTH', 'Asia/Tokyo', 'PREVIOUS_PERIOD').boundaries)).toEqual([
      '2025-08-31T15:00:00Z', '2025-09-30T15:00:00Z', '2025-10-31T15:00:00Z', '2025-11-30T15:00:00Z', '2025-12-31T15:00:00Z',
    ]);
  });

  it('PREVIOUS_YEAR: the same local day a year earlier (2025 changed to EDT on 9 March)', () => {
    const { starts, boundaries } = comparisonBuckets(nyDays, 'DAY', NY, 'PREVIOUS_YEAR');
    expect(isos(starts)).toEqual(['2025-03-07T05:00:00Z', '2025-03-08T05:00:00Z', '2025-03-09T05:00:00Z']);
    expect(isos(boundaries)).toEqual([...isos(starts), '2025-03-10T04:00:00Z']);
    const leap = bucketBoundaries(t('2028-02-28T00:00Z'), t('2028-03-01T00:00Z'), 'DAY', 'UTC').slice(0, -1);
    expect(isos(comparisonBuckets(leap, 'DAY', 'UTC', 'PREVIOUS_YEAR').starts)).toEqual(['2027-02-28T00:00:00Z', '2027-02-28T00:00:00Z']);
  });

  it('QUARTER: the two quarters before, or the same quarters a year earlier', () => {
    // The second and third quarters of 2026 in New York.
    const quarters = bucketBoundaries(t('2026-04-15T00:00Z'), t('2026-08-01T00:00Z'), 'QUARTER', NY).slice(0, -1);
    expect(isos(quarters)).toEqual(['2026-04-01T04:00:00Z', '2026-07-01T04:00:00Z']);
    const previous = comparisonBuckets(quarters, 'QUARTER', NY, 'PREVIOUS_PERIOD');
    expect(isos(previous.starts)).toEqual(['2025-10-01T04:00:00Z', '2026-01-01T05:00:00Z']);
    expect(isos(previous.boundaries)).toEqual([...isos(previous.starts), '2026-04-01T04:00:00Z']);
    const lastYear = comparisonBuckets(quarters, 'QUARTER', NY, 'PREVIOUS_YEAR');
    expect(isos(lastYear.starts)).toEqual(['2025-04-01T04:00:00Z', '2025-07-01T04:00:00Z']);
    expect(isos(lastYear.boundaries)).toEqual([...isos(lastYear.starts), '2025-10-01T04:00:00Z']);
  });

  it('YEAR: the years just before, or each year with the one before it', () => {
    const years = bucketBoundaries(t('2026-03-01T00:00Z'), t('2027-03-01T00:00Z'), 'YEAR', 'Asia/Tokyo').slice(0, -1);
    expect(isos(years)).toEqual(['2025-12-31T15:00:00Z', '2026-12-31T15:00:00Z']);
    const previous = comparisonBuckets(years, 'YEAR', 'Asia/Tokyo', 'PREVIOUS_PERIOD');
    expect(isos(previous.boundaries)).toEqual(['2023-12-31T15:00:00Z', '2024-12-31T15:00:00Z', '2025-12-31T15:00:00Z']);
    expect(isos(previous.starts)).toEqual(isos(previous.boundaries.slice(0, -1)));
    const lastYear = comparisonBuckets(years, 'YEAR', 'Asia/Tokyo', 'PREVIOUS_YEAR');
    expect(isos(lastYear.starts)).toEqual(['2024-12-31T15:00:00Z', '2025-12-31T15:00:00Z']);
    expect(isos(lastYear.boundaries)).toEqual(['2024-12-31T15:00:00Z', '2025-12-31T15:00:00Z', '2026-12-31T15:00:00Z']);
  });
});
