import { describe, expect, it } from 'vitest';
import { sketchFunctionsSql } from './sketch-functions.js';
import { decodeSketchesSql, foldSketchesSql } from './sketch-sql.js';

// The SQL itself is exercised against PostgreSQL and PGlite in sketch-sql.int-spec.ts; here, only the
// guards on what gets spliced into it.
describe('sketch SQL builders', () => {
  it('splice only plain identifiers', () => {
    expect(() => foldSketchesSql({ key: [], hashes: 't' })).toThrow(/at least one key column/);
    expect(() => foldSketchesSql({ key: ['merchant_id; drop table x'], hashes: 't' })).toThrow(/not a lower-case SQL identifier/);
    expect(() => foldSketchesSql({ key: ['Merchant'], hashes: 't' })).toThrow(/not a lower-case SQL identifier/);
    expect(() => decodeSketchesSql({ key: ['merchant_id'], source: 't', column: 'sketch"' })).toThrow(/sketch column/);
    expect(() => sketchFunctionsSql('analytics-fns')).toThrow(/schema "analytics-fns"/);
    expect(() => sketchFunctionsSql('a'.repeat(64))).toThrow(/schema/);
    expect(sketchFunctionsSql('a'.repeat(63))[0]).toBe(`create schema if not exists ${'a'.repeat(63)}`);
  });

  it('refuses key columns named like its own', () => {
    for (const name of ['hash', 'idx', 'rho', 'sketch', 'cell']) {
      expect(() => foldSketchesSql({ key: ['merchant_id', name], hashes: 't' })).toThrow(/clashes/);
    }
  });
});
