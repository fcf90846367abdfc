import { CREDENTIAL_NAMES } from '@app/config';

/**
 * Field names whose values are secrets wherever they are in a record, in any case: the names of
 * credential parameters in URLs, credential headers, and these.
 */
const SECRET_FIELDS = new Set(
  [
    ...CREDENTIAL_NAMES, 'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key',
    'credentials', 'accesstoken', 'refreshtoken', 'clientsecret', 'privatekey',
  ].map((name) => name.toLowerCase()),
);

export const CENSORED = '***';

export function isSecretField(name: string): boolean {
  return SECRET_FIELDS.has(name.toLowerCase());
}
