import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '@app/database';

const KEY_PREFIX = 'pk_';

/** A new random producer key: 256 bits of entropy, printable, recognisable by its prefix. */
export function generateProducerKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * Keys carry 256 random bits, so a plain SHA-256 is enough: there is nothing
 * to brute-force, and lookups stay one index probe.
 */
export function hashProducerKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function looksLikeProducerKey(value: string): boolean {
  return value.startsWith(KEY_PREFIX) && value.length === KEY_PREFIX.length + 43;
}

export interface ProducerApp {
  appId: string;
  name: string;
}

export interface CreatedProducerApp extends ProducerApp {
  /** Shown once; only its hash is stored. */
  key: string;
}

const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class ProducerAppNameError extends Error {}

export async function createProducerApp(db: Kysely<Database>, name: string): Promise<CreatedProducerApp> {
  if (!APP_NAME.test(name)) {
    throw new ProducerAppNameError(
      `invalid app name "${name}": use 1 to 64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  const key = generateProducerKey();
  const appId = randomUUID();
  const inserted = await db
    .insertInto('access.producer_apps')
    .values({ app_id: appId, name, key_hash: hashProducerKey(key) })
    .onConflict((oc) => oc.column('name').doNothing())
    .returning('app_id')
    .executeTakeFirst();
  if (!inserted) throw new ProducerAppNameError(`a producer app named "${name}" already exists`);
  return { appId, name, key };
}

/** Registers a key the caller already holds (the local stack's persisted development key). */
export async function registerProducerKey(db: Kysely<Database>, name: string, key: string): Promise<void> {
  await db
    .insertInto('access.producer_apps')
    .values({ app_id: randomUUID(), name, key_hash: hashProducerKey(key) })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function revokeProducerApp(db: Kysely<Database>, name: string): Promise<boolean> {
  const result = await db
    .updateTable('access.producer_apps')
    .set({ revoked_at: new Date() })
    .where('name', '=', name)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function listProducerApps(db: Kysely<Database>): Promise<Array<ProducerApp & { createdAt: Date; revokedAt: Date | null }>> {
  const rows = await db
    .selectFrom('access.producer_apps')
    .select(['app_id', 'name', 'created_at', 'revoked_at'])
    .orderBy('name')
    .execute();
  return rows.map((r) => ({ appId: r.app_id, name: r.name, createdAt: r.created_at, revokedAt: r.revoked_at }));
}

/** The app a key belongs to, or undefined when the key is unknown or revoked. */
export async function findProducerByKey(db: Kysely<Database>, key: string): Promise<ProducerApp | undefined> {
  if (!looksLikeProducerKey(key)) return undefined;
  const row = await db
    .selectFrom('access.producer_apps')
    .select(['app_id', 'name'])
    .where('key_hash', '=', hashProducerKey(key))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? { appId: row.app_id, name: row.name } : undefined;
}
