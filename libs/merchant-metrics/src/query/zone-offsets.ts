/**
 * UTC offsets of IANA zones from Intl alone (no tz library). Bucketing a
 * 400-day range needs thousands of offset look-ups and one Intl call costs
 * about 1 µs, so offsets are cached per UTC day: two calls per new day, plus a
 * bisection to the second on the rare day whose two ends disagree.
 *
 * Assumes at most one transition per UTC day, as PostgreSQL does (it assumes
 * transitions are at least 48 hours apart).
 */
const DAY_MS = 86_400_000;
/**
 * Cached days of all zones together (about 100 bytes each: some 20 MB). Each
 * zone once had its own 50,000, and every spelling of a name its own zone: a
 * thousand case variants of one name could hold 4.8 GB.
 */
export const MAX_CACHED_ZONE_DAYS = 200_000;
let cachedDays = 0;

/**
 * Area/Location names (and UTC) only. Bare names such as CET or EST are also
 * timestamp abbreviations to PostgreSQL, which reads them as fixed offsets,
 * while Intl reads them as zones with DST: the two would disagree.
 */
const ZONE_NAME = /^(?:UTC|[A-Za-z]+(?:\/[A-Za-z0-9_+-]+)+)$/;

/**
 * Spellings Intl accepted, with the zone's own name (`resolvedOptions()`:
 * "asia/tokyo" is Asia/Tokyo): constructing an Intl.DateTimeFormat to find
 * out costs about 100 µs.
 */
const validZones = new Map<string, string>();

export function isValidTimeZone(zone: string): boolean {
  return canonicalTimeZone(zone) !== undefined;
}

/** The zone's canonical IANA name, or undefined when it is not an accepted zone name. */
export function canonicalTimeZone(zone: string): string | undefined {
  const known = validZones.get(zone);
  if (known !== undefined) return known;
  if (typeof zone !== 'string' || !ZONE_NAME.test(zone)) return undefined;
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  // Names differing only in case are all accepted: bound the map.
  if (validZones.size >= 1000) validZones.clear();
  validZones.set(zone, canonical);
  return canonical;
}

/** Milliseconds since the epoch of a date-time read as UTC; fields may overflow as in Date.UTC. Years from 100 on. */
export function civilToMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

interface DaySlot {
  before: number;
  after: number;
  /** First instant of `after`; Infinity when the day has no transition. */
  transition: number;
}

export class ZoneOffsets {
  private readonly format: Intl.DateTimeFormat;
  private readonly days = new Map<number, DaySlot>();

  constructor(readonly zone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Local time minus UTC, in milliseconds, at instant `t` (ms since the epoch). */
  offsetAt(t: number): number {
    const day = Math.floor(t / DAY_MS);
    let slot = this.days.get(day);
    if (slot === undefined) {
      slot = this.slot(day);
      if (cachedDays >= MAX_CACHED_ZONE_DAYS) forgetCachedDays();
      this.days.set(day, slot);
      cachedDays++;
    }
    return t < slot.transition ? slot.before : slot.after;
  }

  /** Drops this zone's cached days; returns how many there were. */
  forget(): number {
    const n = this.days.size;
    this.days.clear();
    return n;
  }

  private slot(day: number): DaySlot {
    let lo = day * DAY_MS;
    let hi = lo + DAY_MS;
    const before = this.intlOffset(lo);
    const after = this.intlOffset(hi);
    if (before === after) return { before, after, transition: Infinity };
    // Transitions fall on whole seconds: bisect to one second.
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (this.intlOffset(mid) === before) lo = mid;
      else hi = mid;
    }
    return { before, after, transition: hi };
  }

  private intlOffset(t: number): number {
    const wholeSecond = Math.floor(t / 1000) * 1000;
    // format() is about three times cheaper than formatToParts(); en-US h23 reads "M/D/YYYY, HH:MM:SS".
    const f = /(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)/.exec(this.format.format(wholeSecond));
    if (f === null) throw new Error(`cannot read local time in ${this.zone}`);
    return civilToMs(+f[3], +f[1], +f[2], +f[4], +f[5], +f[6]) - wholeSecond;
  }
}

/** By canonical name: every spelling of a zone shares its offsets. */
const zones = new Map<string, ZoneOffsets>();

/** Cached days of every zone (at most MAX_CACHED_ZONE_DAYS). */
export function cachedZoneDays(): number {
  return cachedDays;
}

function forgetCachedDays(): void {
  for (const offsets of zones.values()) cachedDays -= offsets.forget();
}

/** The shared, cached offsets of a zone already checked with isValidTimeZone (any spelling of it). */
export function zoneOffsets(zone: string): ZoneOffsets {
  const name = canonicalTimeZone(zone) ?? zone;
  let offsets = zones.get(name);
  if (offsets === undefined) {
    if (zones.size >= 1000) {
      forgetCachedDays();
      zones.clear();
    }
    offsets = new ZoneOffsets(name);
    zones.set(name, offsets);
  }
  return offsets;
}
