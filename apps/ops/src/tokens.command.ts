import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { dashboardLink, issueMerchantToken, parseTokenTtl, revokeMerchantToken, type MerchantPrincipal } from '@app/access';
import { DEFAULT_MERCHANT_JWT_KID, DEV_MERCHANT_JWT_SECRET, loadMerchantJwtKeys, repositoryRoot } from '@app/config';
import { OpsError, type CommandGroup, type OpsContext } from './cli.js';

const repoRoot = repositoryRoot(import.meta.url);
const DEFAULT_TTL = '24h';

/** What the running local stack wrote in its state file (`npm start`), if there is one. */
function localStackState(env: NodeJS.ProcessEnv): { merchantJwtSecret?: unknown; queryApiUrl?: unknown } | undefined {
  const stateFile = resolve(repoRoot, env.LOCAL_DATA_DIR || '.data', 'local-stack.json');
  if (!existsSync(stateFile)) return undefined;
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as { merchantJwtSecret?: unknown; queryApiUrl?: unknown };
  } catch {
    throw new OpsError(`${stateFile} is not valid JSON; remove it and run npm start again`);
  }
}

/**
 * The key to sign with, as the query API would verify it: MERCHANT_JWT_KEYS and
 * MERCHANT_JWT_SECRET when either is set (MERCHANT_JWT_SIGNING_KID choosing
 * among several keys), else the secret the running local stack chose
 * (`merchantJwtSecret` in its state file), else the development default that
 * a query API outside production falls back to.
 */
function resolveSigningKey(env: NodeJS.ProcessEnv = process.env): { key: { kid: string; secret: string }; source: string } {
  if (env.MERCHANT_JWT_KEYS || env.MERCHANT_JWT_SECRET) {
    const { keys, signingKid } = loadMerchantJwtKeys(env);
    if (signingKid === undefined) {
      throw new OpsError(`several keys are configured (${[...keys.keys()].join(', ')}); name the one to sign with in MERCHANT_JWT_SIGNING_KID`);
    }
    const source = signingKid === DEFAULT_MERCHANT_JWT_KID && env.MERCHANT_JWT_SECRET ? 'MERCHANT_JWT_SECRET' : 'MERCHANT_JWT_KEYS';
    return { key: { kid: signingKid, secret: keys.get(signingKid)! }, source };
  }
  const state = localStackState(env);
  if (typeof state?.merchantJwtSecret === 'string' && state.merchantJwtSecret) {
    return { key: { kid: DEFAULT_MERCHANT_JWT_KID, secret: state.merchantJwtSecret }, source: 'the local stack' };
  }
  return { key: { kid: DEFAULT_MERCHANT_JWT_KID, secret: DEV_MERCHANT_JWT_SECRET }, source: 'the development default (MERCHANT_JWT_SECRET is unset)' };
}

/**
 * Where merchants reach the query API, for a dashboard link: QUERY_API_URL
 * (what they type, behind whatever proxy), else the running local stack's,
 * else the default port on loopback.
 */
function queryApiUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.QUERY_API_URL) return env.QUERY_API_URL;
  const state = localStackState(env);
  if (typeof state?.queryApiUrl === 'string' && state.queryApiUrl) return state.queryApiUrl;
  return `http://127.0.0.1:${env.QUERY_API_PORT || 4001}`;
}

function signInLink(token: string): string {
  try {
    return dashboardLink(queryApiUrl(), token);
  } catch (error) {
    throw new OpsError(`QUERY_API_URL: ${(error as Error).message}`);
  }
}

async function printToken(context: OpsContext, principal: MerchantPrincipal, ttlText: string | undefined, link = false): Promise<void> {
  const ttlSeconds = parseTokenTtl(ttlText ?? DEFAULT_TTL);
  const { key, source } = resolveSigningKey();
  const { token, jti, kid, expiresAt } = await issueMerchantToken(key, principal, { ttlSeconds });
  const who = principal.kind === 'ops' ? 'ops (may read every merchant)' : `merchant "${principal.merchantId}"`;
  const expires = expiresAt.toISOString();
  // The secret itself is never printed; only where it came from.
  context.out(`token for ${who}, expires ${expires}, signed with key "${kid}" from ${source}`);
  context.out(`jti ${jti} (to revoke it: npm run ops -- tokens revoke ${jti} --expires-at ${expires})`);
  // Alone on the last line, so scripts can take it with `tail -n 1`; with --link, the dashboard's sign-in link is.
  context.out(token);
  if (link) context.out(signInLink(token));
}

function parseExpiry(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const date = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new OpsError(`invalid --expires-at "${text}": use an ISO 8601 time with its offset, e.g. 2026-12-03T10:00:00Z`);
  return date;
}

/** Bearer tokens for the query API (HS256 JWTs). Signing stores nothing; revoking writes access.revoked_tokens. */
export const tokensCommands: CommandGroup = {
  name: 'tokens',
  summary: 'query API bearer tokens',
  commands: [
    {
      name: 'merchant',
      args: ['MERCHANT_ID'],
      options: { ttl: 'DURATION', link: '' },
      summary:
        `a token that reads one merchant's metrics (default ttl ${DEFAULT_TTL}); prints its jti, and the token as the last line ` +
        '(with --link, then the dashboard sign-in link, http://<query API>/dashboard#token=…, QUERY_API_URL or the local stack\'s)',
      async run(context, [merchantId], options) {
        await printToken(context, { kind: 'merchant', merchantId: merchantId! }, options.ttl, options.link !== undefined);
      },
    },
    {
      name: 'ops',
      args: [],
      options: { ttl: 'DURATION' },
      summary: `a token that reads every merchant's metrics (default ttl ${DEFAULT_TTL}, at most 24h); prints its jti, and the token as the last line`,
      async run(context, _args, options) {
        await printToken(context, { kind: 'ops' }, options.ttl);
      },
    },
    {
      name: 'revoke',
      args: ['JTI'],
      options: { 'expires-at': 'ISO_TIME', reason: 'TEXT' },
      summary: 'revokes the token of that jti; query APIs refuse it within seconds. --expires-at: its expiry (default: 366 days from now, the longest a token lives)',
      async run(context, [jti], options) {
        const expiresAt = parseExpiry(options['expires-at']);
        const stored = await revokeMerchantToken(await context.db(), { jti: jti!, expiresAt, reason: options.reason });
        context.out(`revoked token ${jti} until ${stored.expiresAt.toISOString()}; query APIs refuse it within seconds`);
      },
    },
  ],
};
