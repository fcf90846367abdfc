/**
 * Typed readers for environment variables. Every reader fails fast with the
 * variable's name in the message, so a bad deployment stops at start-up rather
 * than misbehaving later.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function readString(env: Env, name: string, fallback?: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`${name} is required but not set`);
  }
  return value;
}

export function readOptionalString(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function readInt(env: Env, name: string, fallback: number, bounds: { min: number; max: number }): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < bounds.min || value > bounds.max) {
    throw new ConfigError(`${name} must be between ${bounds.min} and ${bounds.max}, got ${value}`);
  }
  return value;
}

export function readUrl(env: Env, name: string, protocols: string[], fallback?: string): string {
  const value = readString(env, name, fallback);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must use one of ${protocols.join(', ')}; got ${url.protocol}`);
  }
  return value;
}

/**
 * A comma-separated list of URLs (NATS_URL naming the servers of a cluster),
 * each checked as readUrl checks one; returned as given.
 */
export function readUrlList(env: Env, name: string, protocols: string[], fallback?: string): string {
  const value = readString(env, name, fallback);
  for (const one of value.split(',')) {
    if (one.trim() === '') throw new ConfigError(`${name} has an empty entry in its list of URLs`);
    readUrl({ [name]: one.trim() }, name, protocols);
  }
  return value;
}

/**
 * Names that carry credentials: query parameters of connection URLs (libpq's `password`, NATS's
 * `token`/`pass`, …), matched in any case; the logger also redacts fields of these names.
 */
export const CREDENTIAL_NAMES = [
  'password', 'pass', 'passwd', 'pwd', 'token', 'auth_token', 'secret', 'sslpassword', 'key', 'apikey', 'api_key', 'nkey', 'jwt', 'creds',
] as const;

const SECRET_PARAMETERS = new RegExp(`^(${CREDENTIAL_NAMES.join('|')})$`, 'i');

/**
 * A URL as it may be logged: the password of its user part and the values
 * of credential query parameters replaced by ***, and a user name that is a
 * NATS token (a user without a password) too.
 */
export function redactUrl(value: string): string {
  // A list of servers (NATS_URL for a cluster): each one redacted.
  if (value.includes(',')) return value.split(',').map((one) => redactUrl(one.trim())).join(',');
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    else if (url.username && /^(nats|tls|ws|wss):$/.test(url.protocol)) url.username = '***';
    for (const name of [...url.searchParams.keys()]) {
      if (SECRET_PARAMETERS.test(name)) url.searchParams.set(name, '***');
    }
    return url.toString().replaceAll('%2A%2A%2A', '***');
  } catch {
    return '<unparseable url>';
  }
}

/** A URL as it appears in a message: from a scheme's `://` to the next space or quote, without the punctuation that ends a clause. */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>]*[^\s"'`<>),.;:\]]/gi;

/**
 * A text (a log message, an error) with every URL that holds a credential shown as redactUrl
 * shows it; other URLs, and the rest of the text, as they are.
 */
export function redactUrlsIn(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (match) => (holdsCredential(match) ? redactUrl(match) : match));
}

/** Whether redactUrl hides anything in it: its answer differs from the URL as the parser writes it back. */
function holdsCredential(value: string): boolean {
  try {
    return redactUrl(value) !== new URL(value).toString();
  } catch {
    // Unparseable: redactUrl answers '<unparseable url>', which is right for anything with a user part or a query.
    return /[@?]/.test(value);
  }
}
