/**
 * A seeded stream of 32-bit words for tests: a Weyl sequence through MurmurHash3's 32-bit finaliser.
 * Uniform enough to stand in for MD5 output where hashing millions of ids would be too slow.
 */
export class RandomWords {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** An unsigned 32-bit word. */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** A whole number in [0, n). */
  below(n: number): number {
    return Math.floor((this.next() / 2 ** 32) * n);
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** A random signed 64-bit hash. */
  hash(): bigint {
    return BigInt.asIntN(64, (BigInt(this.next()) << 32n) | BigInt(this.next()));
  }

  /** A random customer id, sometimes with non-ASCII characters. */
  id(): string {
    const n = this.next();
    return n % 5 === 0 ? `顧客-${this.next().toString(36)}-ü` : `cus_${n.toString(36)}${this.next().toString(36)}`;
  }
}
