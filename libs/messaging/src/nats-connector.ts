import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { redactUrl } from '@app/config';
import { ensurePaymentsStream, PAYMENTS_STREAM, type PaymentsStreamOptions } from './payments-stream.js';

export interface Logger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Keeps a NATS connection in the background. The command API must keep
 * accepting events while NATS is away, so nothing here ever blocks start-up:
 * the first connection is retried until it succeeds, later outages are the
 * client's own reconnect loop, and after every (re)connect the PAYMENTS stream
 * is checked, since a restarted server may have lost it.
 */
export class NatsConnector {
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  private jsm?: JetStreamManager;
  private ready = false;
  private stopped = false;
  private loop?: Promise<void>;

  /**
   * `stream: 'manage'` (the command API, which publishes) creates the PAYMENTS
   * stream or brings its settings up to date; `'use'` (the projector, whose NATS
   * user may not change the stream) only waits until it exists.
   */
  constructor(
    private readonly url: string,
    private readonly name: string,
    private readonly logger: Logger,
    private readonly stream: 'manage' | 'use' = 'manage',
    private readonly streamOptions?: PaymentsStreamOptions,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** The JetStream client when connected with the stream in place, else undefined. */
  get jetstream(): JetStreamClient | undefined {
    return this.ready ? this.js : undefined;
  }

  /** The JetStream manager under the same condition as `jetstream`. */
  get manager(): JetStreamManager | undefined {
    return this.ready ? this.jsm : undefined;
  }

  get connected(): boolean {
    return this.ready;
  }

  async close(): Promise<void> {
    this.stopped = true;
    const nc = this.nc;
    this.ready = false;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
    await this.loop;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      try {
        this.nc = await connect({
          ...natsConnectOptions(this.url),
          name: this.name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          timeout: 2000,
        });
      } catch (error) {
        if (attempt++ % 20 === 0) this.logger.warn(`NATS at ${redactUrl(this.url)} unreachable (${describeError(error)}); retrying`);
        await sleep(500);
        continue;
      }
      if (this.stopped) {
        await this.nc.close();
        return;
      }
      this.logger.log(`connected to NATS at ${redactUrl(this.url)}`);
      this.js = jetstream(this.nc);
      await this.prepare();
      await this.watch(this.nc);
    }
  }

  private async prepare(): Promise<void> {
    while (!this.stopped && this.nc && !this.nc.isClosed()) {
      try {
        this.jsm = await jetstreamManager(this.nc);
        if (this.stream === 'manage') await ensurePaymentsStream(this.jsm, this.streamOptions);
        else await this.jsm.streams.info(PAYMENTS_STREAM);
        this.ready = true;
        return;
      } catch (error) {
        const what = this.stream === 'manage' ? 'set up the PAYMENTS stream' : 'find the PAYMENTS stream (the command API creates it)';
        this.logger.warn(`cannot ${what} yet (${describeError(error)}); retrying`);
        await sleep(1000);
      }
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    const closed = nc.closed();
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.ready = false;
        if (!this.stopped) this.logger.warn('lost the NATS connection; publication pauses, ingest continues');
      } else if (status.type === 'reconnect') {
        this.logger.log('reconnected to NATS');
        void this.prepare();
      } else if (status.type === 'close') {
        break;
      }
    }
    this.ready = false;
    await closed;
  }
}

/**
 * nats.js takes no credentials from a server URL: `nats://user:password@host:port`
 * becomes the server and a user and password, `nats://token@host:port` a token.
 * A comma-separated list names the servers of a cluster (the client picks one
 * and moves to another when it is lost); the credentials are the first ones given.
 */
export function natsConnectOptions(url: string): { servers: string[]; user?: string; pass?: string; token?: string } {
  const parsed = url.split(',').map((one) => new URL(one.trim()));
  const servers = parsed.map((p) => `${p.protocol}//${p.host}`);
  const credentialed = parsed.find((p) => p.username);
  if (!credentialed) return { servers };
  const user = decodeURIComponent(credentialed.username);
  const pass = decodeURIComponent(credentialed.password);
  return pass ? { servers, user, pass } : { servers, token: user };
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
