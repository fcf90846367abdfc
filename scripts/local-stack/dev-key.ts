import { findProducerByKey, generateProducerKey, registerProducerKey } from '@app/access';
import type { Database } from '@app/database';
import type { Kysely } from 'kysely';
import { keptSecret, type DataDir } from './data-dir.js';

export const DEV_APP_NAME = 'dev';

/**
 * The development producer key survives restarts (.data/dev-producer.key), so
 * scripts and curl commands pasted yesterday keep working. Returns undefined
 * when the database already knows an app "dev" under another key.
 */
export async function ensureDevProducerKey(db: Kysely<Database>, dir: DataDir): Promise<string | undefined> {
  const key = keptSecret(dir.devProducerKey, generateProducerKey);
  await registerProducerKey(db, DEV_APP_NAME, key);
  // registerProducerKey keeps an existing "dev" app untouched; check the key really works.
  return (await findProducerByKey(db, key)) ? key : undefined;
}
