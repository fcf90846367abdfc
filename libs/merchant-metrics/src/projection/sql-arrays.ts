/** Bucket starts repeat a lot (15-minute grid): format each once. */
const isoCache = new Map<number, string>();

export function iso(ms: number): string {
  let text = isoCache.get(ms);
  if (text === undefined) {
    if (isoCache.size >= 200_000) isoCache.clear();
    text = new Date(ms).toISOString();
    isoCache.set(ms, text);
  }
  return text;
}

/**
 * Array parameters are sent as PostgreSQL array literals built here: the
 * driver's generic array serialisation (escape every element, recursively)
 * was a tenth of the projector's CPU.
 */
export function textArray<T>(items: readonly T[], field: (item: T) => string): string {
  let out = '{';
  for (let i = 0; i < items.length; i++) {
    const v = field(items[i]);
    const escaped = v.includes('"') || v.includes('\\') ? v.replace(/[\\"]/g, '\\$&') : v;
    out += i === 0 ? `"${escaped}"` : `,"${escaped}"`;
  }
  return out + '}';
}

export function numberArray<T>(items: readonly T[], field: (item: T) => number | bigint): string {
  let out = '{';
  for (let i = 0; i < items.length; i++) out += i === 0 ? String(field(items[i])) : `,${field(items[i])}`;
  return out + '}';
}

/** A bytea[] parameter sent as text[] of hex (NULL for null), decoded in SQL with decode(x, 'hex'). */
export function hexArray<T>(items: readonly T[], field: (item: T) => Uint8Array | null): string {
  let out = '{';
  for (let i = 0; i < items.length; i++) {
    const v = field(items[i]);
    const text = v === null ? 'NULL' : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
    out += i === 0 ? text : `,${text}`;
  }
  return out + '}';
}
