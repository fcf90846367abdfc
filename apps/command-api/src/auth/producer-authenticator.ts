import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { findProducerByKey, hashProducerKey, type ProducerApp } from '@app/access';
import type { Database } from '@app/database';
import { ConnectError } from '../connect/connect-error.js';
import { CommandApiConfigRef } from '../infrastructure/config.provider.js';
import { KYSELY } from '../infrastructure/tokens.js';

const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 10_000;
/** Keys found unknown are refused without a lookup for this long: random keys cost a lookup each at most this often. */
const UNKNOWN_TTL_MS = 5000;
/**
 * Announced by triggers on access.producer_apps with an app's id when its
 * cached keys are stale: it was revoked (migration 2026-12-02T00-00) or its
 * merchants changed (2026-12-02T02-00).
 */
export const REVOCATION_CHANNEL = 'producer_apps_revoked';
const RELISTEN_MS = 1000;

/**
 * Resolves `Authorization: Bearer <producer key>` to a producer app, with the
 * merchants it is restricted to. Known keys are cached by hash for 30 s,
 * unknown ones for 5 s (so that random keys cannot turn every request into a
 * lookup); the key itself is never stored or logged.
 * A revocation or a change of the app's merchants is heard at once: the
 * process LISTENs on `producer_apps_revoked` and drops the app's keys from
 * its cache when it is announced. While that connection is down the cache is
 * emptied (an announcement may have been missed) and entries live 30 s at
 * most, as before. A lookup that was under way when an announcement came is
 * not cached: it may have read the row as it was before.
 */
@Injectable()
export class ProducerAuthenticator implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new Map<string, { app: ProducerApp; expires: number }>();
  /** Hashes of well-formed keys the database did not know, until when they are refused unread (bounded like the cache). */
  private readonly unknown = new Map<string, number>();
  private readonly logger = new Logger('ProducerAuthenticator');
  private listener?: pg.Client;
  /** Counts announcements and cache clears, so a lookup that overlapped one is not cached. */
  private changes = 0;
  private relisten?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    @Inject(KYSELY) private readonly db: Kysely<Database>,
    private readonly config: CommandApiConfigRef,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.listen();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.relisten);
    await this.listener?.end().catch(() => undefined);
  }

  async authenticate(header: string | undefined): Promise<ProducerApp> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) throw new ConnectError('unauthenticated', 'missing "Authorization: Bearer <producer key>" header');
    const key = match[1];
    const cacheKey = hashProducerKey(key).toString('base64');
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expires > Date.now()) return cached.app;
    if ((this.unknown.get(cacheKey) ?? 0) > Date.now()) this.refuse();

    const changesBefore = this.changes;
    const app = await findProducerByKey(this.db, key);
    if (changesBefore !== this.changes) return app ?? this.refuse();
    if (!app) {
      if (this.unknown.size >= CACHE_MAX) this.unknown.clear();
      this.unknown.set(cacheKey, Date.now() + UNKNOWN_TTL_MS);
      this.refuse();
    }
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(cacheKey, { app, expires: Date.now() + CACHE_TTL_MS });
    return app;
  }

  private refuse(): never {
    throw new ConnectError('unauthenticated', 'invalid or revoked producer key');
  }

  private forgetApp(appId: string): void {
    this.changes++;
    for (const [key, entry] of this.cache) if (entry.app.appId === appId) this.cache.delete(key);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.config.value.databaseUrl, application_name: 'command-api-revocations' });
    const lost = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.changes++;
      this.cache.clear();
      client.end().catch(() => undefined);
      if (!this.stopped) this.relisten = setTimeout(() => void this.listen(), RELISTEN_MS);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (n) => {
      if (n.channel === REVOCATION_CHANNEL && n.payload) this.forgetApp(n.payload);
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`listen ${REVOCATION_CHANNEL}`);
      // Anything revoked before the LISTEN took effect is not in the cache: it was emptied when the last connection was lost.
    } catch (error) {
      this.logger.warn(`cannot listen for producer key revocations (${(error as Error).message}); cached keys live ${CACHE_TTL_MS / 1000} s meanwhile`);
      lost();
    }
  }
}
