import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '@app/database';
import { isMerchantId } from '@app/payments';

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
  /** The only merchants it may submit events for; null: any merchant. */
  merchantIds: ReadonlySet<string> | null;
}

export interface CreatedProducerApp extends ProducerApp {
  /** Shown once; only its hash is stored. */
  key: string;
}

const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class ProducerAppNameError extends Error {}

/**
 * The most merchants an app may be restricted to (the database's check says
 * the same). Each command API process caches the list with the app's key, for
 * up to 10,000 keys.
 */
export const MAX_APP_MERCHANTS = 1000;

export class ProducerMerchantsError extends Error {}

/** `a,b,c` as the ops CLI takes it, checked by checkMerchantList. */
export function parseMerchantList(text: string): string[] {
  return checkMerchantList(text.split(',').map((id) => id.trim()).filter((id) => id !== ''));
}

/** The list an app may be restricted to: each a valid merchant id, repeats dropped, 1 to MAX_APP_MERCHANTS of them. */
export function checkMerchantList(merchantIds: readonly string[]): string[] {
  const ids = [...new Set(merchantIds)];
  if (ids.length === 0) throw new ProducerMerchantsError('no merchant ids given: list them separated by commas, e.g. m-1001,m-1002');
  if (ids.length > MAX_APP_MERCHANTS) {
    throw new ProducerMerchantsError(`${ids.length} merchant ids given; an app may be restricted to at most ${MAX_APP_MERCHANTS}`);
  }
  const invalid = ids.find((id) => !isMerchantId(id));
  if (invalid !== undefined) {
    throw new ProducerMerchantsError(`invalid merchant id "${invalid}": use 1 to 64 characters of A-Z, a-z, 0-9, ".", "_", ":", "-"`);
  }
  return ids;
}

/** A request holds events for merchants its app may not submit for: it is refused whole. */
export class MerchantNotPermittedError extends Error {
  constructor(readonly appName: string, readonly merchantIds: string[]) {
    const shown = merchantIds.slice(0, 5).map((id) => `"${id}"`).join(', ');
    const more = merchantIds.length > 5 ? ` and ${merchantIds.length - 5} more` : '';
    super(
      `producer app "${appName}" may not submit events for merchant${merchantIds.length > 1 ? 's' : ''} ${shown}${more}; ` +
        'nothing was stored (an operator sets its merchants: ops apps restrict)',
    );
    this.name = 'MerchantNotPermittedError';
  }
}

/** Throws MerchantNotPermittedError naming every merchant of `merchantIds` the app may not submit for. */
export function checkMerchantsPermitted(app: ProducerApp, merchantIds: Iterable<string>): void {
  const allowed = app.merchantIds;
  if (allowed === null) return;
  const refused = new Set<string>();
  for (const id of merchantIds) if (!allowed.has(id)) refused.add(id);
  if (refused.size > 0) throw new MerchantNotPermittedError(app.name, [...refused]);
}

/** Creates an app; with `merchantIds` it may submit events for those merchants only. */
export async function createProducerApp(
  db: Kysely<Database>,
  name: string,
  options: { merchantIds?: string[] | null } = {},
): Promise<CreatedProducerApp> {
  if (!APP_NAME.test(name)) {
    throw new ProducerAppNameError(
      `invalid app name "${name}": use 1 to 64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  const merchantIds = options.merchantIds ? checkMerchantList(options.merchantIds) : null;
  const key = generateProducerKey();
  const appId = randomUUID();
  const inserted = await db
    .insertInto('access.producer_apps')
    .values({ app_id: appId, name, key_hash: hashProducerKey(key), merchant_ids: merchantIds })
    .onConflict((oc) => oc.column('name').doNothing())
    .returning('app_id')
    .executeTakeFirst();
  if (!inserted) throw new ProducerAppNameError(`a producer app named "${name}" already exists`);
  return { appId, name, key, merchantIds: merchantIds && new Set(merchantIds) };
}

/**
 * Restricts an active app to `merchantIds`, or lets it submit for any
 * merchant again (null). Running command APIs apply it at once: a trigger
 * announces the change and each drops the app's cached keys.
 */
export async function restrictProducerApp(db: Kysely<Database>, name: string, merchantIds: string[] | null): Promise<boolean> {
  const list = merchantIds && checkMerchantList(merchantIds);
  const result = await db
    .updateTable('access.producer_apps')
    .set({ merchant_ids: list })
    .where('name', '=', name)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
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
    .select(['app_id', 'name', 'created_at', 'revoked_at', 'merchant_ids'])
    .orderBy('name')
    .execute();
  return rows.map((r) => ({ ...toProducerApp(r), createdAt: r.created_at, revokedAt: r.revoked_at }));
}

/** The app a key belongs to, or undefined when the key is unknown or revoked. */
export async function findProducerByKey(db: Kysely<Database>, key: string): Promise<ProducerApp | undefined> {
  if (!looksLikeProducerKey(key)) return undefined;
  const row = await db
    .selectFrom('access.producer_apps')
    .select(['app_id', 'name', 'merchant_ids'])
    .where('key_hash', '=', hashProducerKey(key))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? toProducerApp(row) : undefined;
}

function toProducerApp(row: { app_id: string; name: string; merchant_ids: string[] | null }): ProducerApp {
  return { appId: row.app_id, name: row.name, merchantIds: row.merchant_ids && new Set(row.merchant_ids) };
}
