import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { customerHash, customerHashWords, hashToWords, registerIndex, registerRho, wordsToHash } from './customer-hash.js';
import { RandomWords } from './testing/random-words.js';
import { referenceRegister } from './testing/reference-sketch.js';

/** Bytes as a big-endian two's-complement integer, digit by digit. */
function signed64(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = 0; i < 8; i++) value = value * 256n + BigInt(bytes[i]);
  return bytes[0] >= 0x80 ? value - 2n ** 64n : value;
}

describe('customerHash', () => {
  it('is the first 8 bytes of published MD5 digests, signed', () => {
    // RFC 1321 test suite: md5("") = d41d8cd98f00b204…, md5("a") = 0cc175b9c0f1b6a8…, md5("abc") = 900150983cd24fb0…
    expect(customerHash('')).toBe(0xd41d8cd98f00b204n - 2n ** 64n);
    expect(customerHash('a')).toBe(0x0cc175b9c0f1b6a8n);
    expect(customerHash('abc')).toBe(0x900150983cd24fb0n - 2n ** 64n);
  });

  it('hashes the UTF-8 bytes of non-ASCII ids', () => {
    // 顧 = E9 A1 A7, 客 = E5 AE A2, then "-1".
    const utf8 = Buffer.from([0xe9, 0xa1, 0xa7, 0xe5, 0xae, 0xa2, 0x2d, 0x31]);
    expect(Buffer.from('顧客-1', 'utf8')).toEqual(utf8);
    const digest = createHash('md5').update(utf8).digest();
    expect(customerHash('顧客-1')).toBe(signed64(digest));
    for (const id of ['ü', 'cus_😀', 'Ωmega-42']) {
      expect(customerHash(id)).toBe(signed64(createHash('md5').update(Buffer.from(id, 'utf8')).digest()));
    }
  });

  it('has word and bigint forms that agree', () => {
    const random = new RandomWords(7);
    for (let i = 0; i < 2000; i++) {
      const id = random.id();
      const words = customerHashWords(id);
      expect(wordsToHash(words.hi, words.lo)).toBe(customerHash(id));
      expect(hashToWords(customerHash(id))).toEqual(words);
    }
    for (const h of [0n, -1n, -(2n ** 63n), 2n ** 63n - 1n, 1n << 32n, (1n << 32n) - 1n]) {
      const { hi, lo } = hashToWords(h);
      expect(wordsToHash(hi, lo)).toBe(h);
    }
  });
});

describe('register index and ρ', () => {
  it('follow the doc on hand-picked hashes', () => {
    const cases: Array<[bigint, number, number]> = [
      [0n, 0, 51], // all 50 low bits zero
      [-1n, 16383, 1],
      [1n, 0, 50],
      [1n << 49n, 0, 1],
      [1n << 50n, 1, 51],
      [1n << 31n, 0, 19], // the top bit of the low word: 18 zeros above it among the 50
      [1n << 32n, 0, 18],
      [-(2n ** 63n), 8192, 51],
    ];
    for (const [h, index, rho] of cases) {
      const { hi, lo } = hashToWords(h);
      expect([registerIndex(hi), registerRho(hi, lo)], `hash ${h}`).toEqual([index, rho]);
    }
  });

  it('match the bit-string reference on random hashes, every ρ included', () => {
    const random = new RandomWords(11);
    for (let i = 0; i < 20000; i++) {
      // Shift right by a random amount so that small ρ and large ρ are both common.
      const h = BigInt.asIntN(64, (BigInt(random.next()) << 50n) | (random.hash() & ((1n << 50n) - 1n)) >> BigInt(random.below(51)));
      const { hi, lo } = hashToWords(h);
      const expected = referenceRegister(h);
      expect([registerIndex(hi), registerRho(hi, lo)]).toEqual([expected.index, expected.rho]);
    }
  });
});
