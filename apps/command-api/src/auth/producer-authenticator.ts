import { Inject, Injectable } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { findProducerByKey, hashProducerKey, type ProducerApp } from '@app/access';
import type { Database } from '@app/database';
import { ConnectError } from '../connect/connect-error.js';
import { KYSELY } from '../infrastructure/tokens.js';

const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 10_000;

/**
 * Resolves `Authorization: Bearer <producer key>` to a producer app. Known
 * keys are cached by hash for 30 s (a revoked key stops working within that
 * time); the key itself is never stored or logged.
 */
@Injectable()
export class ProducerAuthenticator {
  private readonly cache = new Map<string, { app: ProducerApp; expires: number }>();

  constructor(@Inject(KYSELY) private readonly db: Kysely<Database>) {}

  async authenticate(header: string | undefined): Promise<ProducerApp> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) throw new ConnectError('unauthenticated', 'missing "Authorization: Bearer <producer key>" header');
    const key = match[1];
    const cacheKey = hashProducerKey(key).toString('base64');
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expires > Date.now()) return cached.app;

    const app = await findProducerByKey(this.db, key);
    if (!app) throw new ConnectError('unauthenticated', 'invalid or revoked producer key');
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(cacheKey, { app, expires: Date.now() + CACHE_TTL_MS });
    return app;
  }
}
