import { EXPLICIT_MAX, RHO_BITS, RHO_MAX, SKETCH_REGISTERS, SPARSE_MAX } from './constants.js';
import { customerHashSql, decodeSketchesSql, foldSketchesSql, identifier } from './sketch-sql.js';

export interface SketchSqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/**
 * CREATE statements of the analysts' functions in `schema`: customer_hash(text), sketch_estimate(bytea),
 * sketch_is_exact(bytea), sketch_union(bytea[]), and the sketch_check(bytea) they share. One statement
 * per element, because PGlite's query() takes one at a time. customer_hash hashes the text's bytes in
 * the database encoding, which must be UTF8 to match customerHash.
 */
export function sketchFunctionsSql(schema: string): string[] {
  const s = identifier(schema, 'schema');
  // The check wraps the value itself: a separate one would run after the planner's pushed-down filters.
  const input = `(select 1 as one, ${s}.sketch_check(x) as sketch from unnest(sketches) as x where x is not null)`;
  const decoded = decodeSketchesSql({ key: ['one'], source: input, column: 'sketch' });
  const union = foldSketchesSql({ key: ['one'], hashes: `(${decoded.hashes})`, registers: `(${decoded.registers})` });
  const single = decodeSketchesSql({ key: ['one'], source: '(select 1 as one, input_sketch as sketch)', column: 'sketch' });
  return [
    `create schema if not exists ${s}`,
    checkFunctionSql(s),
    `create or replace function ${s}.customer_hash(customer_id text) returns bigint
      language sql immutable strict parallel safe
      as $$ select ${customerHashSql('customer_id')} $$`,
    `create or replace function ${s}.sketch_union(sketches bytea[]) returns bytea
      language sql immutable parallel safe
      as $$ select f.sketch from (${union}) as f $$`,
    `create or replace function ${s}.sketch_is_exact(input_sketch bytea) returns boolean
      language plpgsql immutable parallel safe as $$
      begin
        if input_sketch is null then return true; end if;
        perform ${s}.sketch_check(input_sketch);
        return get_byte(input_sketch, 0) = 1;
      end $$`,
    // The steps of estimator.ts in the same order of float8 operations, so the rounding agrees.
    `create or replace function ${s}.sketch_estimate(input_sketch bytea) returns bigint
      language plpgsql immutable parallel safe as $$
      declare
        m constant float8 := ${SKETCH_REGISTERS};
        c float8[] := array_fill(0::float8, array[${RHO_MAX + 1}], array[0]);
        r record;
        non_zero int := 0;
        x float8;
        y float8;
        z float8;
        sigma float8;
        previous float8;
      begin
        if input_sketch is null then return 0; end if;
        perform ${s}.sketch_check(input_sketch);
        if get_byte(input_sketch, 0) = 1 then return (length(input_sketch) - 1) / 8; end if;
        for r in select d.rho, count(*)::int as n from (${single.registers}) as d group by d.rho loop
          if r.rho > ${RHO_MAX} then raise exception 'sketch: a register holds %, above ${RHO_MAX}', r.rho; end if;
          c[r.rho] := r.n;
          non_zero := non_zero + r.n;
        end loop;
        c[0] := m - non_zero;
        -- z = m·τ(1 − C[q+1]/m)
        x := 1::float8 - c[${RHO_MAX}] / m;
        if x = 0::float8 or x = 1::float8 then
          z := 0;
        else
          y := 1;
          z := 1::float8 - x;
          loop
            x := sqrt(x);
            previous := z;
            y := y * 0.5::float8;
            z := z - (1::float8 - x) * (1::float8 - x) * y;
            exit when z = previous;
          end loop;
          z := z / 3::float8;
        end if;
        z := m * z;
        for k in reverse ${RHO_BITS}..1 loop
          z := 0.5::float8 * (z + c[k]);
        end loop;
        -- z += m·σ(C[0]/m); σ(1) = ∞ (no register set), whose estimate is 0
        x := c[0] / m;
        if x = 1::float8 then return 0; end if;
        y := 1;
        sigma := x;
        loop
          x := x * x;
          previous := sigma;
          sigma := sigma + x * y;
          y := y + y;
          exit when sigma = previous;
        end loop;
        z := z + m * sigma;
        return floor((m * m) / (2::float8 * ${Math.LN2}::float8 * z) + 0.5::float8)::bigint;
      end $$`,
  ];
}

/**
 * sketch_check(bytea) returns its argument after the checks SQL can afford (form and length); the
 * TypeScript decoder also checks every entry.
 */
function checkFunctionSql(s: string): string {
  return `create or replace function ${s}.sketch_check(input_sketch bytea) returns bytea
      language plpgsql immutable parallel safe as $$
      declare
        n int := length(input_sketch);
      begin
        if input_sketch is null then return null; end if;
        if n = 0 then raise exception 'sketch is empty: the empty set is stored as NULL'; end if;
        case get_byte(input_sketch, 0)
          when 1 then
            if (n - 1) % 8 <> 0 or n = 1 or n > ${1 + 8 * EXPLICIT_MAX} then
              raise exception 'explicit sketch of % bytes: expected 1 + 8·n bytes, 1 ≤ n ≤ ${EXPLICIT_MAX}', n;
            end if;
          when 2 then
            if (n - 1) % 3 <> 0 or n = 1 or n > ${1 + 3 * SPARSE_MAX} then
              raise exception 'sparse sketch of % bytes: expected 1 + 3·k bytes, 1 ≤ k ≤ ${SPARSE_MAX}', n;
            end if;
          when 3 then
            if n <> ${1 + SKETCH_REGISTERS} then raise exception 'dense sketch of % bytes: expected ${1 + SKETCH_REGISTERS}', n; end if;
          else
            raise exception 'unknown sketch form: leading byte %', get_byte(input_sketch, 0);
        end case;
        return input_sketch;
      end $$`;
}

/** Creates (or replaces) the analysts' sketch functions in `schema`. */
export async function createSketchFunctions(client: SketchSqlClient, schema: string): Promise<void> {
  const [createSchema, ...functions] = sketchFunctionsSql(schema);
  // `create schema if not exists` needs CREATE on the database even when the schema is there, which the
  // projector's login lacks (its version schemas are made for it): only where it is missing.
  const { rows } = await client.query('select to_regnamespace($1) is not null as exists', [schema]);
  if (!rows[0]!.exists) await client.query(createSchema!);
  for (const statement of functions) await client.query(statement);
}
