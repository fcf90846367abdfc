import { EXPLICIT_MAX, RHO_BITS, SKETCH_REGISTERS, SPARSE_MAX } from './constants.js';

// Set-based SQL (core PostgreSQL 15+, PGlite) producing the same bytes as the TypeScript encoder. These
// are text builders: the caller splices the result into its own statements, so the fold of millions
// of events stays one GROUP BY pipeline with no per-row procedural code.

/** The SQL expression of doc 0008's hash of the text expression `expr`. */
export function customerHashSql(expr: string): string {
  return `('x' || substr(md5((${expr})::text), 1, 16))::bit(64)::bigint`;
}

export interface FoldSketchesOptions {
  /** Key column names, present in `hashes` (and `registers`); the output has them plus `sketch`. */
  key: string[];
  /** A table name or parenthesised subquery with the key columns and `hash bigint` (duplicates allowed). */
  hashes: string;
  /** Optional relation with the key columns, `idx int` and `rho int`: registers of register-form sketches. */
  registers?: string;
}

const ZEROS = `decode(repeat('00', ${SKETCH_REGISTERS}), 'hex')`;
const REGISTER_MASK = SKETCH_REGISTERS - 1;

/**
 * SELECT (key…, sketch bytea): one canonical sketch per key with at least one hash or register.
 *
 * The distinct (key, hash) pairs are sorted once and counted per key by a window over that order.
 * Keys that stay explicit (the common case: a few hashes, no registers) go straight to an ordered
 * string_agg of int8send(hash); only the others are reduced to registers, at their largest ρ, and
 * written sparse or dense by the number of them.
 */
export function foldSketchesSql(options: FoldSketchesOptions): string {
  const k = keyList(options.key);
  const ck = options.key.map((c) => `c.${c}`).join(', ');
  // Null hashes are dropped late (count(hash), then the filters below), not by a WHERE that PostgreSQL
  // would push into `hashes` and so compute each decoded hash twice.
  const distinctHashes = `select ${k}, hash from ${options.hashes} as h group by ${k}, hash`;
  // Without register inputs the pairs keep the order of their GROUP BY and the window needs no sort.
  const counted = options.registers
    ? `select ${k}, hash, idx, rho, count(hash) over w as n, count(idx) over w as n_registers
    from (
      select ${k}, hash, null::int as idx, null::int as rho from (${distinctHashes}) as d
      union all
      select ${k}, null::bigint, idx, rho from ${options.registers} as r where rho > 0
    ) as i
    window w as (partition by ${k})`
    : `select ${k}, hash, null::int as idx, null::int as rho, count(hash) over w as n, 0 as n_registers
    from (${distinctHashes}) as d
    window w as (partition by ${k})`;
  const stays = `n_registers = 0 and n <= ${EXPLICIT_MAX}`;
  return `with
  counted as (
    ${counted}
  ),
  registers as (
    select ${k}, cell, max(rho) as rho
    from (
      select ${k}, coalesce(idx, (hash >> ${RHO_BITS}) & ${REGISTER_MASK}) as cell,
        coalesce(rho, position(B'1' in hash::bit(${RHO_BITS}) || B'1')) as rho
      from counted where not (${stays}) and (hash is not null or idx is not null)
    ) as c
    group by ${k}, cell
  ),
  ordered as (
    -- One window (the whole-partition frame serves count and lag alike), so one WindowAgg pass.
    select ${k}, cell, rho, count(*) over w as cells, coalesce(lag(cell) over w, -1) as previous
    from registers window w as (partition by ${k} order by cell rows between unbounded preceding and unbounded following)
  )
  select ${k}, decode('01', 'hex') || string_agg(int8send(hash), ''::bytea order by hash) as sketch
  from counted where ${stays} and hash is not null
  group by ${k}
  union all
  select ${ck},
    case when max(c.cells) <= ${SPARSE_MAX} then decode('02', 'hex') else decode('03', 'hex') end
    || string_agg(
         case when c.cells <= ${SPARSE_MAX} then substr(int4send(c.cell::int * 64 + c.rho), 2, 3)
              else substr(${ZEROS}, 1, (c.cell - c.previous - 1)::int) || substr(int4send(c.rho), 4, 1) end,
         ''::bytea order by c.cell)
    || case when max(c.cells) > ${SPARSE_MAX} then substr(${ZEROS}, 1, ${REGISTER_MASK} - max(c.cell)::int) else ''::bytea end
  from ordered as c
  group by ${ck}`;
}

export interface DecodeSketchesOptions {
  key: string[];
  /** A table name or parenthesised subquery with the key columns and the sketch column. */
  source: string;
  /** The bytea column holding sketches (NULLs are skipped). */
  column: string;
}

/**
 * Two SELECTs turning stored sketches back into fold inputs: (key…, hash) for explicit ones,
 * (key…, idx, rho) for sparse and dense ones (zero registers left out). Each sketch is detoasted
 * once, by a concatenation in an `offset 0` subquery the planner cannot inline into the per-entry
 * rows; entries are read with get_byte and shifts, twice as fast as through hex text and bit(64).
 */
export function decodeSketchesSql(options: DecodeSketchesOptions): { hashes: string; registers: string } {
  const k = keyList(options.key);
  const sk = options.key.map((c) => `s.${c}`).join(', ');
  const column = identifier(options.column, 'sketch column');
  const from = (tag: number) =>
    `(select ${k}, ${column} || ''::bytea as sketch_bytes from ${options.source} as src where get_byte(${column}, 0) = ${tag} offset 0) as s`;
  const byte = (i: number) => `get_byte(s.sketch_bytes, e.sketch_entry${i === 0 ? '' : ` + ${i}`})`;
  // PostgreSQL gives <<, | and & one precedence, left to right: every shift needs its parentheses.
  // Bytes go int8 before shifting, so a top byte ≥ 0x80 lands in the sign bit, as two's complement wants.
  const hash = Array.from({ length: 8 }, (_, i) => `(${byte(i)}::int8 << ${56 - 8 * i})`).join(' | ');
  const entry = `((${byte(0)} << 16) | (${byte(1)} << 8) | ${byte(2)})`;
  const hashes = `select ${sk}, ${hash} as hash
  from ${from(1)}
  cross join lateral generate_series(1, length(s.sketch_bytes) - 8, 8) as e(sketch_entry)`;
  const registers = `select ${sk}, ${entry} >> 6 as idx, ${entry} & 63 as rho
  from ${from(2)}
  cross join lateral generate_series(1, length(s.sketch_bytes) - 3, 3) as e(sketch_entry)
  union all
  select ${sk}, e.sketch_entry - 1 as idx, ${byte(0)} as rho
  from ${from(3)}
  cross join lateral generate_series(1, ${SKETCH_REGISTERS}) as e(sketch_entry)
  where ${byte(0)} > 0`;
  return { hashes, registers };
}

// Names the generated SQL uses for its own columns; a key column by one of them would be shadowed.
const INTERNAL = new Set([
  'hash', 'idx', 'rho', 'n', 'n_registers', 'cell', 'cells', 'previous', 'sketch', 'sketch_bytes', 'sketch_entry',
]);

function keyList(key: string[]): string {
  if (key.length === 0) throw new Error('sketch SQL: at least one key column is required');
  for (const column of key) {
    identifier(column, 'key column');
    if (INTERNAL.has(column)) throw new Error(`sketch SQL: key column "${column}" clashes with a column the SQL uses itself`);
  }
  return key.join(', ');
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function identifier(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`sketch SQL: ${what} "${name}" is not a lower-case SQL identifier`);
  return name;
}
