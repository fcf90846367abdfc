import { describe, expect, it } from 'vitest';
import { hashToWords } from './customer-hash.js';
import { SketchAccumulator } from './sketch-accumulator.js';
import { sketchForm } from './sketch-format.js';
import { unionSketches } from './sketches.js';
import { RandomWords } from './testing/random-words.js';
import { referenceSketch } from './testing/reference-sketch.js';
import { distinct, growUntilRegisters } from './testing/threshold-sets.js';

type Sketch = Buffer | null;

/** Random parts covering `hashes`, about a fifth of them repeated in a second part. */
function split(random: RandomWords, hashes: bigint[], parts: number): bigint[][] {
  const out: bigint[][] = Array.from({ length: parts }, () => []);
  for (const h of hashes) {
    out[random.below(parts)].push(h);
    if (random.below(5) === 0) out[random.below(parts)].push(h);
  }
  return out.map((part) => random.shuffle(part));
}

function build(hashes: bigint[], accumulator = new SketchAccumulator()): Sketch {
  accumulator.reset();
  const words = { hi: 0, lo: 0 };
  for (const h of hashes) {
    hashToWords(h, words);
    accumulator.addHashWords(words.hi, words.lo);
  }
  return accumulator.encode();
}

const leftFold = (sketches: Sketch[]) => sketches.reduce((a, b) => unionSketches([a, b]), null as Sketch);
const rightFold = (sketches: Sketch[]) => sketches.reduceRight((a, b) => unionSketches([b, a]), null as Sketch);
function pairwise(sketches: Sketch[]): Sketch {
  let level = sketches;
  while (level.length > 1) level = Array.from({ length: Math.ceil(level.length / 2) }, (_, i) => unionSketches(level.slice(2 * i, 2 * i + 2)));
  return level[0] ?? null;
}
function randomTree(random: RandomWords, sketches: Sketch[]): Sketch {
  const pool = [...sketches];
  while (pool.length > 1) {
    const a = pool.splice(random.below(pool.length), 1)[0];
    const b = pool.splice(random.below(pool.length), 1)[0];
    pool.push(unionSketches([a, b]));
  }
  return pool[0] ?? null;
}

describe('a set has one sketch, however it is built', () => {
  const random = new RandomWords(2024);
  const sparseEdge = growUntilRegisters([], 4096, () => random.hash(), (h) => h);
  const denseEdge = growUntilRegisters(sparseEdge, 4097, () => random.hash(), (h) => h);
  const sets: Array<[string, bigint[], string]> = [
    ['1 hash', distinct(1, () => random.hash()), 'explicit'],
    ['2 hashes', distinct(2, () => random.hash()), 'explicit'],
    ['256 hashes', distinct(256, () => random.hash()), 'explicit'],
    ['257 hashes', distinct(257, () => random.hash()), 'sparse'],
    ['1,000 hashes', distinct(1000, () => random.hash()), 'sparse'],
    [`${sparseEdge.length} hashes on 4,096 registers`, sparseEdge, 'sparse'],
    [`${denseEdge.length} hashes on 4,097 registers`, denseEdge, 'dense'],
    ['100,000 hashes', distinct(100_000, () => random.hash()), 'dense'],
  ];

  it.each(sets)('%s', (_, hashes, form) => {
    const expected = referenceSketch(hashes);
    expect(sketchForm(expected)).toBe(form);
    const reused = new SketchAccumulator();
    expect(build(random.shuffle([...hashes, ...hashes.slice(0, 50)]), reused)).toEqual(expected);
    expect(build(hashes, reused)).toEqual(expected);
    for (const parts of [2, 3, 10]) {
      const sketches = split(random, hashes, parts).map((part) => build(part, reused));
      expect(leftFold(sketches)).toEqual(expected);
      expect(rightFold(sketches)).toEqual(expected);
      expect(pairwise(sketches)).toEqual(expected);
      expect(randomTree(random, sketches)).toEqual(expected);
      expect(unionSketches(random.shuffle([...sketches, null, ...sketches]))).toEqual(expected);
    }
  });

  it('keeps each sketch unchanged when merged with itself or with a subset', () => {
    for (const [, hashes] of sets) {
      const whole = referenceSketch(hashes);
      expect(unionSketches([whole, whole])).toEqual(whole);
      expect(unionSketches([referenceSketch(hashes.slice(0, 3)), whole])).toEqual(whole);
    }
  });

  it('reuses one accumulator across sets of every form', () => {
    const accumulator = new SketchAccumulator();
    for (const [, hashes] of [...sets, ...sets.slice().reverse()]) {
      accumulator.reset();
      for (const h of hashes) accumulator.addHash(h);
      expect(accumulator.encode()).toEqual(referenceSketch(hashes));
    }
  });
});
