import {
  DENSE_TAG, EXPLICIT_MAX, EXPLICIT_TAG, SKETCH_REGISTERS, SPARSE_MAX, SPARSE_TAG,
} from './constants.js';
import { customerHashWords, hashToWords, registerIndex, registerRho, type HashWords } from './customer-hash.js';
import { estimateFromHistogram } from './estimator.js';
import { newHistogram } from './histogram.js';
import { DENSE_BYTES, readInt32, readSparseEntry, validateSketch } from './sketch-format.js';

export interface SketchEstimate {
  count: number;
  /** True while the set is small enough to be held exactly (explicit form). */
  exact: boolean;
}

/**
 * The sketch of a growing set, mutable and reusable (reset()) so that a merge of thousands of sketches
 * allocates nothing per element. It holds the distinct hashes themselves, sorted, until a 257th arrives
 * and then only the registers: the form of encode() depends on the set alone, as doc 0008 requires.
 */
export class SketchAccumulator {
  // Explicit phase: the distinct hashes in signed 64-bit order, as (signed top word, unsigned low word).
  private readonly his = new Int32Array(EXPLICIT_MAX);
  private readonly los = new Uint32Array(EXPLICIT_MAX);
  private size = 0;
  // Register phase: allocated on first use and kept (zeroed) across reset().
  private registers: Uint8Array | null = null;
  private inRegisters = false;
  private readonly words: HashWords = { hi: 0, lo: 0 };
  /**
   * In the register phase, how many registers hold each value, kept up to
   * date with every raise: an estimate then costs O(52), not a pass over
   * 16,384 registers (a query estimates once per bucket and series).
   */
  private readonly histogram = newHistogram();

  addId(id: string): this {
    customerHashWords(id, this.words);
    return this.addHashWords(this.words.hi, this.words.lo);
  }

  addHash(hash: bigint): this {
    hashToWords(hash, this.words);
    return this.addHashWords(this.words.hi, this.words.lo);
  }

  /** The hash as its top word (either signedness) and its low word. */
  addHashWords(hi: number, lo: number): this {
    hi |= 0;
    lo >>>= 0;
    if (this.inRegisters) {
      this.setRegister(hi, lo);
      return this;
    }
    const { his, los } = this;
    let low = 0;
    let high = this.size;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (his[mid] < hi || (his[mid] === hi && los[mid] < lo)) low = mid + 1;
      else high = mid;
    }
    if (low < this.size && his[low] === hi && los[low] === lo) return this;
    if (this.size === EXPLICIT_MAX) {
      this.ensureRegisters();
      this.setRegister(hi, lo);
      return this;
    }
    his.copyWithin(low + 1, low, this.size);
    los.copyWithin(low + 1, low, this.size);
    his[low] = hi;
    los[low] = lo;
    this.size++;
    return this;
  }

  /** Merges an encoded sketch (validated first, so a corrupt one leaves this accumulator unchanged). */
  addEncoded(buf: Uint8Array | null): this {
    if (buf === null) return this;
    const form = validateSketch(buf);
    if (form === 'explicit') {
      for (let o = 1; o < buf.length; o += 8) this.addHashWords(readInt32(buf, o), readInt32(buf, o + 4));
      return this;
    }
    const registers = this.ensureRegisters();
    const histogram = this.histogram;
    if (form === 'sparse') {
      for (let o = 1; o < buf.length; o += 3) {
        const entry = readSparseEntry(buf, o);
        const j = entry >>> 6;
        const rho = entry & 63;
        if (rho > registers[j]) {
          histogram[registers[j]]--;
          histogram[rho]++;
          registers[j] = rho;
        }
      }
    } else {
      for (let j = 0; j < SKETCH_REGISTERS; j++) {
        const rho = buf[j + 1];
        if (rho > registers[j]) {
          histogram[registers[j]]--;
          histogram[rho]++;
          registers[j] = rho;
        }
      }
    }
    return this;
  }

  /** The canonical bytes of the set so far; null for the empty set. */
  encode(): Buffer | null {
    if (!this.inRegisters) return this.size === 0 ? null : this.encodeExplicit();
    const registers = this.registers!;
    const nonZero = SKETCH_REGISTERS - this.histogram[0];
    if (nonZero > SPARSE_MAX) {
      const out = Buffer.allocUnsafe(DENSE_BYTES);
      out[0] = DENSE_TAG;
      out.set(registers, 1);
      return out;
    }
    const out = Buffer.allocUnsafe(1 + 3 * nonZero);
    out[0] = SPARSE_TAG;
    let o = 1;
    for (let j = 0; j < SKETCH_REGISTERS; j++) {
      const rho = registers[j];
      if (rho === 0) continue;
      const entry = j * 64 + rho;
      out[o] = entry >>> 16;
      out[o + 1] = (entry >>> 8) & 0xff;
      out[o + 2] = entry & 0xff;
      o += 3;
    }
    return out;
  }

  estimate(): SketchEstimate {
    if (!this.inRegisters) return { count: this.size, exact: true };
    return { count: estimateFromHistogram(this.histogram), exact: false };
  }

  reset(): this {
    this.size = 0;
    if (this.inRegisters) {
      this.registers!.fill(0);
      this.inRegisters = false;
    }
    return this;
  }

  private encodeExplicit(): Buffer {
    const out = Buffer.allocUnsafe(1 + 8 * this.size);
    out[0] = EXPLICIT_TAG;
    for (let i = 0, o = 1; i < this.size; i++, o += 8) {
      out.writeInt32BE(this.his[i], o);
      out.writeUInt32BE(this.los[i], o + 4);
    }
    return out;
  }

  /** Moves the explicit hashes into registers, once the set has outgrown the explicit form. */
  private ensureRegisters(): Uint8Array {
    if (this.inRegisters) return this.registers!;
    this.registers ??= new Uint8Array(SKETCH_REGISTERS); // zero: new, or zeroed by reset()
    this.inRegisters = true;
    this.histogram.fill(0);
    this.histogram[0] = SKETCH_REGISTERS;
    for (let i = 0; i < this.size; i++) this.setRegister(this.his[i], this.los[i]);
    this.size = 0;
    return this.registers;
  }

  private setRegister(hi: number, lo: number): void {
    const registers = this.registers!;
    const j = registerIndex(hi);
    const rho = registerRho(hi, lo);
    if (rho > registers[j]) {
      this.histogram[registers[j]]--;
      this.histogram[rho]++;
      registers[j] = rho;
    }
  }
}
