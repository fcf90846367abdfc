import { RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';

export const PAYMENTS_STREAM = 'PAYMENTS';
export const PAYMENTS_SUBJECT_PREFIX = 'payments.events';

export function partitionSubject(partition: number): string {
  return `${PAYMENTS_SUBJECT_PREFIX}.${partition}`;
}

export interface PaymentsStreamOptions {
  /** How long JetStream keeps messages; replays read the event store, so this can be short. */
  maxAgeMs: number;
  replicas: number;
  /** Window within which a repeated Nats-Msg-Id is dropped as a duplicate. */
  duplicateWindowMs: number;
}

export const DEFAULT_STREAM_OPTIONS: PaymentsStreamOptions = {
  maxAgeMs: 7 * 24 * 3600 * 1000,
  replicas: 1,
  duplicateWindowMs: 10 * 60 * 1000,
};

/** Creates the PAYMENTS stream, or brings an existing one's settings up to date. */
export async function ensurePaymentsStream(jsm: JetStreamManager, options: PaymentsStreamOptions = DEFAULT_STREAM_OPTIONS): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: PAYMENTS_STREAM,
    subjects: [`${PAYMENTS_SUBJECT_PREFIX}.*`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: nanos(options.maxAgeMs),
    duplicate_window: nanos(options.duplicateWindowMs),
    num_replicas: options.replicas,
  };
  const existing = await jsm.streams.info(PAYMENTS_STREAM).catch(() => undefined);
  if (!existing) {
    await jsm.streams.add(config);
  } else {
    await jsm.streams.update(PAYMENTS_STREAM, { ...existing.config, ...config });
  }
}
