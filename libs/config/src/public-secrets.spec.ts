import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PUBLIC_SECRETS } from './public-secrets.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Quoted literals of 20 or more secret-like characters on lines that name a secret. */
function secretLiterals(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split('\n')) {
    if (!/secret/i.test(line)) continue;
    for (const m of line.matchAll(/['"`]([A-Za-z0-9_-]{20,})['"`]|:-([A-Za-z0-9_-]{20,})\}/g)) found.push(m[1] ?? m[2]);
  }
  return found;
}

describe('secrets published in the repository', () => {
  it('are all listed in PUBLIC_SECRETS, so that production refuses them', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0')
      .filter((f) => /\.(ts|mjs|js|ya?ml|md|json|env|example)$/.test(f) && !f.includes('package-lock'));
    expect(files.length).toBeGreaterThan(100);
    const unlisted = new Map<string, string>();
    for (const file of files) {
      for (const literal of secretLiterals(readFileSync(join(ROOT, file), 'utf8'))) {
        // Names of variables and of functions are not secrets: a secret has a digit or a dash and no capital.
        if (!/[0-9-]/.test(literal) || /[A-Z]/.test(literal)) continue;
        if (!PUBLIC_SECRETS.has(literal)) unlisted.set(literal, file);
      }
    }
    expect(Object.fromEntries(unlisted)).toEqual({});
  });

  it('finds a literal in the forms the repository uses', () => {
    // Built, not written, so that this file holds no literal of its own.
    const sample = ['abc', '0123456789', 'abcdefgh'].join('-');
    expect(secretLiterals(`const SECRET = '${sample}';\nMERCHANT_JWT_SECRET: \${MERCHANT_JWT_SECRET:-compose-dev-only-merchant-jwt-secret}`))
      .toEqual([sample, 'compose-dev-only-merchant-jwt-secret']);
  });

  it('are not defaults of docker-compose.yml, which refuses to start without them, and publishes the APIs on loopback and the admin ports on loopback only', () => {
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const references = [...compose.matchAll(/\$\{([A-Z_]+)(:[-?])?([^}]*)\}/g)].map(([, name, op, rest]) => ({ name, op, rest }));
    const secrets = references.filter((r) => /SECRET|PASSWORD/.test(r.name));
    expect(new Set(secrets.map((r) => r.name))).toEqual(new Set([
      'MERCHANT_JWT_SECRET', 'POSTGRES_PASSWORD', 'COMMAND_API_DB_PASSWORD', 'PROJECTOR_DB_PASSWORD', 'QUERY_API_DB_PASSWORD',
      'NATS_COMMAND_API_PASSWORD', 'NATS_PROJECTOR_PASSWORD', 'POSTGRES_REPLICATION_PASSWORD',
    ]));
    for (const r of secrets) {
      // The ha profile's replication password cannot be `:?` (compose interpolates every profile, so the
      // default `up` would demand it); it has no default either, and the Patroni containers refuse to start without it.
      if (r.name === 'POSTGRES_REPLICATION_PASSWORD') expect([r.op, r.rest]).toEqual([':-', '']);
      else expect([r.name, r.op]).toEqual([r.name, ':?']);
    }
    expect(compose).toMatch(/if \[ -z "\$\$PATRONI_REPLICATION_PASSWORD" \]; then\s+echo [^\n]+>&2; exit 1; fi;/);
    // Host address, host port and container port ("127.0.0.1::9402": a host port of Docker's choice;
    // "${HA_QUERY_API_PORT:-4101}": a host port the operator may move).
    const published = [...compose.matchAll(/^\s+- "(\$\{API_BIND:-127\.0\.0\.1\}|[0-9.]+):(\d*|\$\{HA_[A-Z_]+:-\d+\}):(\d+)"$/gm)]
      .map((m) => [m[1], m[3]]);
    expect(published.length).toBe([...compose.matchAll(/^\s+- "[^"]*:\d+"$/gm)].length);
    expect(published).toEqual([
      ['127.0.0.1', '5432'], ['127.0.0.1', '4222'], ['127.0.0.1', '8222'],
      ['${API_BIND:-127.0.0.1}', '4000'], ['${API_BIND:-127.0.0.1}', '4003'], ['127.0.0.1', '9400'], ['127.0.0.1', '9402'], ['${API_BIND:-127.0.0.1}', '4001'], ['127.0.0.1', '9401'],
      // The ha profile: haproxy's two API front ends, its PostgreSQL primary and read ports and its stats page; the apps' admin ports.
      ['${API_BIND:-127.0.0.1}', '4000'], ['${API_BIND:-127.0.0.1}', '4001'], ['127.0.0.1', '5000'], ['127.0.0.1', '5001'], ['127.0.0.1', '8404'],
      ['127.0.0.1', '9400'], ['127.0.0.1', '9402'], ['127.0.0.1', '9401'],
    ]);
  });
});
