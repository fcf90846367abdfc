import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ConnectError } from '../connect/connect-error.js';
import { frameMessage, grpcCompressionOf, grpcTimeoutMs, readUnaryMessage } from './grpc-frames.js';
import { encodeStatusMessage } from './grpc-status.js';

const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: ConnectError) => [error.code, error.message]);

describe('gRPC framing', () => {
  it('frames a message behind a flag byte and a big-endian length', () => {
    expect([...frameMessage(Buffer.from([7, 8, 9]))]).toEqual([0, 0, 0, 0, 3, 7, 8, 9]);
  });

  it('reads one message however it is split, and inflates a gzip one', async () => {
    const framed = frameMessage(Buffer.from('hello'));
    const split = Readable.from([framed.subarray(0, 2), framed.subarray(2, 6), framed.subarray(6)]);
    expect((await readUnaryMessage(split, 'identity', 100, 1000)).toString()).toBe('hello');
    const gzipped = gzipSync(Buffer.from('hello'));
    const compressed = Buffer.concat([Buffer.from([1, 0, 0, 0, gzipped.length]), gzipped]);
    expect((await readUnaryMessage(Readable.from([compressed]), 'gzip', 100, 1000)).toString()).toBe('hello');
  });

  it('refuses a message whose prefix declares more than the limit before reading it, and one that inflates past it', async () => {
    const prefixOnly = Readable.from([Buffer.from([0, 0, 0, 0x10, 0])]);
    expect(await refusal(readUnaryMessage(prefixOnly, 'identity', 1000, 1000)))
      .toEqual(['resource_exhausted', 'request message of 4096 bytes exceeds the limit of 1000 bytes']);
    const bomb = gzipSync(Buffer.alloc(5000));
    const framed = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), bomb]);
    framed.writeUInt32BE(bomb.length, 1);
    expect(await refusal(readUnaryMessage(Readable.from([framed]), 'gzip', 1000, 1000)))
      .toEqual(['resource_exhausted', 'request message of 1001+ bytes exceeds the limit of 1000 bytes']);
  });

  it('refuses a message not received within the deadline', async () => {
    const stalled = new Readable({ read() {} });
    stalled.push(Buffer.from([0, 0, 0]));
    expect(await refusal(readUnaryMessage(stalled, 'identity', 1000, 50)))
      .toEqual(['deadline_exceeded', 'request message not received within 0.05 s']);
  });

  it('reads grpc-timeout in every unit, and refuses a malformed one', () => {
    expect(['2H', '3M', '4S', '250m', '1500u', '2000000n'].map((value) => grpcTimeoutMs(value))).toEqual([7_200_000, 180_000, 4000, 250, 1.5, 2]);
    expect(grpcTimeoutMs(undefined)).toBeUndefined();
    for (const value of ['123456789S', '5s', '5', 'S', '1.5S']) {
      expect(() => grpcTimeoutMs(value), value).toThrow(`malformed grpc-timeout "${value}"`);
    }
  });

  it('takes gzip and identity, and answers anything else with unimplemented naming them', () => {
    expect([grpcCompressionOf(undefined), grpcCompressionOf('gzip'), grpcCompressionOf('identity')]).toEqual(['identity', 'gzip', 'identity']);
    expect(() => grpcCompressionOf('snappy')).toThrow('unsupported grpc-encoding "snappy": use gzip or identity');
  });
});

describe('grpc-message', () => {
  it('percent-encodes % and every byte outside printable ASCII, and nothing else', () => {
    expect(encodeStatusMessage('events[0].x: 100% "é" ; ok\n')).toBe('events[0].x: 100%25 "%C3%A9" ; ok%0A');
  });

  it('cuts a message over 6 KiB after its last whole "; " item, and says so', () => {
    const items = Array.from({ length: 400 }, (_, i) => `events[${i}].eventId: must be a UUID`);
    const encoded = encodeStatusMessage(`400 invalid fields: ${items.join('; ')}`);
    const suffix = '; %E2%80%A6 (cut to 6144 bytes for gRPC metadata: send fewer events per request to see every error)';
    expect(encoded.length).toBeLessThanOrEqual(6144);
    expect(encoded.endsWith(suffix)).toBe(true);
    const kept = encoded.slice(0, -suffix.length);
    expect(kept.startsWith('400 invalid fields: events[0].eventId: must be a UUID; ')).toBe(true);
    expect(kept.endsWith('must be a UUID')).toBe(true);
    // Whole items only, and as many as fit.
    const count = kept.split('; ').length;
    expect(kept).toBe(`400 invalid fields: ${items.slice(0, count).join('; ')}`);
    expect(`${kept}; ${items[count]}; `.length + suffix.length).toBeGreaterThan(6144);
  });
});
