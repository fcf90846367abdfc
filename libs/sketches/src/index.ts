export {
  EXPLICIT_MAX, SKETCH_PRECISION, SKETCH_REGISTERS, SKETCH_STANDARD_ERROR, SPARSE_MAX, type SketchForm,
} from './constants.js';
export { customerHash, customerHashWords, hashToWords, wordsToHash, type HashWords } from './customer-hash.js';
export { SketchAccumulator, type SketchEstimate } from './sketch-accumulator.js';
export { SketchFormatError, sketchForm } from './sketch-format.js';
export { encodeIds, estimateSketch, unionSketches } from './sketches.js';
export {
  customerHashSql, decodeSketchesSql, foldSketchesSql, type DecodeSketchesOptions, type FoldSketchesOptions,
} from './sketch-sql.js';
export { createSketchFunctions, sketchFunctionsSql, type SketchSqlClient } from './sketch-functions.js';
