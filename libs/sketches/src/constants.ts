// The numbers of docs/decisions/0008-customer-sketches.md. Changing any of them changes every stored
// sketch's bytes, so they are a format version, not a tuning knob.

/** p: a hash's top 14 bits choose its register. */
export const SKETCH_PRECISION = 14;
/** m = 2^p. */
export const SKETCH_REGISTERS = 1 << SKETCH_PRECISION;
/** Most distinct hashes an explicit (exact) sketch holds. */
export const EXPLICIT_MAX = 256;
/** Most non-zero registers a sparse sketch holds; past it the dense form is smaller. */
export const SPARSE_MAX = 4096;
/** Relative standard error of a register-form estimate, 1.04/√m ≈ 0.81%. */
export const SKETCH_STANDARD_ERROR = 1.04 / Math.sqrt(SKETCH_REGISTERS);

/** Bits below the register index: ρ counts leading zeros among them. */
export const RHO_BITS = 64 - SKETCH_PRECISION;
/** Largest register value: all 50 low bits zero. */
export const RHO_MAX = RHO_BITS + 1;

/** Leading byte of each encoded form. */
export const EXPLICIT_TAG = 0x01;
export const SPARSE_TAG = 0x02;
export const DENSE_TAG = 0x03;

export type SketchForm = 'explicit' | 'sparse' | 'dense';
