import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCommandApiConfig } from './command-api.config.js';

const DATABASE_URL = 'postgres://u:p@127.0.0.1:5432/db';

describe('command API configuration: the gRPC listener', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-config-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  writeFileSync(cert, 'not parsed here');
  writeFileSync(key, 'not parsed here');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('listens on 4003 in cleartext by default, on the port given, 0 for a free one, and not at all with "off"', () => {
    expect(loadCommandApiConfig({ DATABASE_URL }).grpc).toEqual({ port: 4003 });
    expect(loadCommandApiConfig({ DATABASE_URL, COMMAND_API_GRPC_PORT: '50051' }).grpc).toEqual({ port: 50051 });
    expect(loadCommandApiConfig({ DATABASE_URL, COMMAND_API_GRPC_PORT: '0', COMMAND_API_PORT: '0' }).grpc).toEqual({ port: 0 });
    expect(loadCommandApiConfig({ DATABASE_URL, COMMAND_API_GRPC_PORT: 'off' }).grpc).toBeUndefined();
  });

  it('serves TLS with both files given', () => {
    expect(loadCommandApiConfig({ DATABASE_URL, COMMAND_API_GRPC_TLS_CERT: cert, COMMAND_API_GRPC_TLS_KEY: key }).grpc)
      .toEqual({ port: 4003, tls: { certFile: cert, keyFile: key } });
  });

  it('refuses bad values, naming the variable', () => {
    expect(() => loadCommandApiConfig({ DATABASE_URL, COMMAND_API_GRPC_PORT: '4000' }))
      .toThrow('COMMAND_API_GRPC_PORT must differ from COMMAND_API_PORT (both 4000)');
    expect(() => loadCommandApiConfig({ DATABASE_URL, COMMAND_API_GRPC_PORT: '9400' }))
      .toThrow('COMMAND_API_GRPC_PORT must differ from COMMAND_API_ADMIN_PORT (both 9400)');
    expect(() => loadCommandApiConfig({ DATABASE_URL, COMMAND_API_GRPC_PORT: 'grpc' }))
      .toThrow('COMMAND_API_GRPC_PORT must be an integer, got "grpc"');
    expect(() => loadCommandApiConfig({ DATABASE_URL, COMMAND_API_GRPC_PORT: '65536' }))
      .toThrow('COMMAND_API_GRPC_PORT must be between 0 and 65535, got 65536');
    expect(() => loadCommandApiConfig({ DATABASE_URL, COMMAND_API_GRPC_TLS_CERT: cert }))
      .toThrow('COMMAND_API_GRPC_TLS_CERT and COMMAND_API_GRPC_TLS_KEY go together: set both (PEM files) for TLS, or neither for cleartext HTTP/2');
    expect(() => loadCommandApiConfig({ DATABASE_URL, COMMAND_API_GRPC_TLS_CERT: cert, COMMAND_API_GRPC_TLS_KEY: join(dir, 'missing.pem') }))
      .toThrow(`COMMAND_API_GRPC_TLS_KEY: cannot read ${join(dir, 'missing.pem')} (ENOENT)`);
    expect(() => loadCommandApiConfig({ DATABASE_URL, COMMAND_API_GRPC_PORT: 'off', COMMAND_API_GRPC_TLS_CERT: cert, COMMAND_API_GRPC_TLS_KEY: key }))
      .toThrow('COMMAND_API_GRPC_TLS_CERT and COMMAND_API_GRPC_TLS_KEY are set but COMMAND_API_GRPC_PORT is "off"');
  });

  it.skipIf(process.getuid?.() === 0)('refuses a key file it cannot read', () => {
    chmodSync(key, 0o000);
    try {
      expect(() => loadCommandApiConfig({ DATABASE_URL, COMMAND_API_GRPC_TLS_CERT: cert, COMMAND_API_GRPC_TLS_KEY: key }))
        .toThrow(`COMMAND_API_GRPC_TLS_KEY: cannot read ${key} (EACCES)`);
    } finally {
      chmodSync(key, 0o600);
    }
  });
});
