import { SketchAccumulator } from './src/sketch-accumulator.js';
import { validateSketch } from './src/sketch-format.js';
import { RandomWords } from './src/testing/random-words.js';
const r = new RandomWords(3);
const acc = new SketchAccumulator();
const dense = Array.from({ length: 350 }, () => { acc.reset(); for (let i = 0; i < 100000; i++) acc.addHashWords(r.next(), r.next()); return acc.encode()!; });
const regs = new Uint8Array(16384);
function time(name: string, fn: () => void) {
  const ts: number[] = [];
  for (let k = 0; k < 15; k++) { const t = performance.now(); fn(); ts.push(performance.now() - t); }
  ts.sort((a, b) => a - b);
  console.log(name, (ts[7] * 1000).toFixed(0), 'µs');
}
time('validate', () => { for (const d of dense) validateSketch(d); });
time('merge-branch', () => { for (const d of dense) for (let j = 0; j < 16384; j++) { const v = d[j + 1]; if (v > regs[j]) regs[j] = v; } });
time('merge-max', () => { for (const d of dense) for (let j = 0; j < 16384; j++) { const a = d[j + 1], b = regs[j]; regs[j] = a > b ? a : b; } });
time('merge-sub', () => { for (const d of dense) { const s = d.subarray(1); for (let j = 0; j < 16384; j++) { const a = s[j], b = regs[j]; regs[j] = a > b ? a : b; } } });
time('validate-or', () => { for (const d of dense) { let acc = 0, nz = 0; for (let o = 1; o < 16385; o++) { const v = d[o]; acc |= v; nz += (v + 255) >> 8; } if (acc > 63 || nz < 4097) throw 1; } });
time('addEncoded', () => { acc.reset(); for (const d of dense) acc.addEncoded(d); });
