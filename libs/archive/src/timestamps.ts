const MICROS_PER_SECOND = 1_000_000n;

/**
 * Microseconds since the Unix epoch as readPartition formats `recorded_at`
 * (`to_char(… at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`): UTC,
 * always six fractional digits. Done here from the integer rather than by
 * DuckDB's strftime so that the text does not depend on a session time zone.
 */
export function formatMicros(micros: bigint): string {
  // Floor division, so that instants before 1970 keep a fraction in [0, 1 s).
  let seconds = micros / MICROS_PER_SECOND;
  if (micros < 0n && seconds * MICROS_PER_SECOND !== micros) seconds -= 1n;
  const fraction = micros - seconds * MICROS_PER_SECOND;
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${whole}.${fraction.toString().padStart(6, '0')}Z`;
}

/** The UTC month of an instant in microseconds, `YYYY-MM`: what names an archive file. */
export function utcMonthOf(micros: bigint): string {
  return formatMicros(micros).slice(0, 7);
}
