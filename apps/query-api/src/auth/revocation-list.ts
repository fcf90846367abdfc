import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import pg from 'pg';
import { MAX_REVOKED_TOKENS, TOKEN_REVOCATION_CHANNEL } from '@app/access';
import { PG_POOL } from '../infrastructure/tokens.js';

export interface RevocationListOptions {
  /** How often the whole list is read again (default 5 s): how late a revocation is honoured when its announcement was missed. */
  reloadMs?: number;
  /** Without a successful read for this long (default 30 s), every token is refused (HTTP 503) rather than checked against an old list. */
  staleAfterMs?: number;
  /** Most revocations held (default MAX_REVOKED_TOKENS); beyond it, every token is refused until the list fits again. */
  maxEntries?: number;
}

/** What authentication asks of the list. */
export interface RevocationCheck {
  isRevoked(jti: string): boolean;
  /** Why revocations cannot be checked now (the client is then refused), or undefined when they can. */
  unavailable(): string | undefined;
}

const RELISTEN_MS = 1000;
/** On a standby LISTEN is refused (SQLSTATE 25006); tried again this seldom, in case the read port has moved to the primary. */
const STANDBY_RELISTEN_MS = 30_000;
const READ_ONLY = '25006';
/**
 * Rows expired at most this long ago are still read: the query API accepts a
 * token up to 30 s past its `exp`, and the database's clock may differ from
 * this process's.
 */
const EXPIRED_KEPT = '5 minutes';

/**
 * The ids (`jti`) of revoked tokens that have not expired, in memory, so that
 * checking one costs a Map look-up. Kept current two ways, like the command
 * API's ProducerAuthenticator:
 *
 * - a connection of its own LISTENs on `token_revoked`, which a trigger on
 *   access.revoked_tokens notifies for each revocation: heard at once;
 * - the whole list is read through the query pool every `reloadMs`, and as
 *   soon as a lost LISTEN connection is back, so a missed announcement is
 *   honoured within `reloadMs` at worst. A full read also drops expired
 *   entries and revocations deleted from the table.
 *
 * Fails closed: if no read has succeeded for `staleAfterMs` (the database is
 * unreachable, the table unreadable) or more than `maxEntries` revocations
 * are unexpired, unavailable() says so and no token is accepted.
 */
export class RevocationList implements RevocationCheck {
  /** Revoked jtis, each with when an announcement brought it (0: read from the table). */
  private entries = new Map<string, number>();
  private readonly logger = new Logger('RevocationList');
  private readonly reloadMs: number;
  private readonly staleAfterMs: number;
  private readonly maxEntries: number;
  private pool?: pg.Pool;
  private listener?: pg.Client;
  private relisten?: NodeJS.Timeout;
  private reloadTimer?: NodeJS.Timeout;
  /** When the last successful full read started (epoch ms). */
  private loadedAt?: number;
  private overflowing = false;
  /** The last LISTEN was refused because the database is a standby. */
  private onStandby = false;
  /** Reads may overlap (one after a LISTEN, one periodic); only one started later than the last applied is applied. */
  private readsStarted = 0;
  private readsApplied = 0;
  private failing = false;
  private stopped = false;

  constructor(
    private readonly databaseUrl: string,
    options: RevocationListOptions = {},
  ) {
    this.reloadMs = options.reloadMs ?? 5000;
    this.staleAfterMs = options.staleAfterMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? MAX_REVOKED_TOKENS;
  }

  /** Reads the list once and starts listening; tokens are refused until a first read has succeeded. */
  async start(pool: pg.Pool): Promise<void> {
    this.pool = pool;
    if (!(await this.listen())) await this.reload();
    this.reloadTimer = setInterval(() => void this.reload(), this.reloadMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reloadTimer);
    clearTimeout(this.relisten);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  isRevoked(jti: string): boolean {
    return this.entries.has(jti);
  }

  unavailable(): string | undefined {
    const stale = this.loadedAt === undefined || Date.now() - this.loadedAt > this.staleAfterMs;
    return stale || this.overflowing ? 'token revocations cannot be checked at the moment; retry later' : undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Reads every unexpired revocation; a failure leaves the list as it was (and, once stale, unavailable). */
  private async reload(): Promise<void> {
    if (!this.pool || this.stopped) return;
    const read = ++this.readsStarted;
    const startedAt = Date.now();
    let rows: Array<{ jti: string }>;
    try {
      ({ rows } = await this.pool.query<{ jti: string }>(
        `select jti from access.revoked_tokens where expires_at > now() - interval '${EXPIRED_KEPT}' limit $1`,
        [this.maxEntries + 1],
      ));
    } catch (error) {
      if (!this.failing && !this.stopped) {
        this.logger.warn(`cannot read the revoked tokens (${(error as Error).message}); tokens are refused if this lasts ${this.staleAfterMs / 1000} s`);
      }
      this.failing = true;
      return;
    }
    if (read < this.readsApplied || this.stopped) return;
    this.readsApplied = read;
    this.failing = false;
    const entries = new Map<string, number>();
    for (const row of rows) entries.set(row.jti, 0);
    // Heard while this read ran: its snapshot may be older than their commit.
    for (const [jti, heardAt] of this.entries) if (heardAt >= startedAt) entries.set(jti, heardAt);
    this.entries = entries;
    this.loadedAt = startedAt;
    this.checkBound();
  }

  /** An announced revocation; it stays until the first full read that no longer finds it (expired or deleted). */
  private heard(jti: string): void {
    this.entries.set(jti, Date.now());
    this.checkBound();
  }

  private checkBound(): void {
    const overflowing = this.entries.size > this.maxEntries;
    if (overflowing && !this.overflowing) {
      this.logger.error(
        `more than ${this.maxEntries} unexpired tokens are revoked: every token is refused until some expire or are deleted from access.revoked_tokens (rotate the signing key instead)`,
      );
    }
    this.overflowing = overflowing;
  }

  /** Connects and LISTENs, then reads the whole list (what was revoked while nobody listened); false when that failed. */
  private async listen(): Promise<boolean> {
    if (this.stopped) return false;
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'query-api-revocations' });
    const lost = (retryMs = RELISTEN_MS) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      client.end().catch(() => undefined);
      // Meanwhile the periodic read keeps the list at most reloadMs late.
      if (!this.stopped) this.relisten = setTimeout(() => void this.listen(), retryMs);
    };
    client.on('error', () => lost());
    client.on('end', () => lost());
    client.on('notification', (n) => {
      if (n.channel === TOKEN_REVOCATION_CHANNEL && n.payload) this.heard(n.payload);
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`listen ${TOKEN_REVOCATION_CHANNEL}`);
    } catch (error) {
      if ((error as { code?: string }).code === READ_ONLY) {
        // A hot standby (the read port of the replicated topology): NOTIFY never reaches it, the periodic read is all there is.
        if (!this.onStandby) this.logger.log(`the database is a standby, where revocations are not announced: the list is read every ${this.reloadMs / 1000} s`);
        this.onStandby = true;
        lost(STANDBY_RELISTEN_MS);
        return false;
      }
      this.logger.warn(`cannot listen for token revocations (${(error as Error).message}); the list is read every ${this.reloadMs / 1000} s meanwhile`);
      lost();
      return false;
    }
    this.onStandby = false;
    await this.reload();
    return true;
  }
}

/** Starts the list once the pool exists, and stops it before the pool is closed (onApplicationShutdown). */
@Injectable()
export class RevocationListLifecycle implements OnModuleInit, OnModuleDestroy {
  constructor(
    @Inject(RevocationList) private readonly list: RevocationList,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.list.start(this.pool);
  }

  async onModuleDestroy(): Promise<void> {
    await this.list.stop();
  }
}
