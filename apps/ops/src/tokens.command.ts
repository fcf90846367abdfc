import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTokenTtl, signMerchantToken, type MerchantPrincipal } from '@app/access';
import { DEV_MERCHANT_JWT_SECRET } from '@app/config';
import { OpsError, type CommandGroup, type OpsContext } from './cli.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const DEFAULT_TTL = '24h';

/**
 * The secret the query API verifies with: MERCHANT_JWT_SECRET, else the one the
 * running local stack chose (`merchantJwtSecret` in its state file), else the
 * development default that a query API outside production falls back to.
 */
function resolveSecret(env: NodeJS.ProcessEnv = process.env): { secret: string; source: string } {
  if (env.MERCHANT_JWT_SECRET) return { secret: env.MERCHANT_JWT_SECRET, source: 'MERCHANT_JWT_SECRET' };
  const stateFile = resolve(repoRoot, env.LOCAL_DATA_DIR || '.data', 'local-stack.json');
  if (existsSync(stateFile)) {
    let state: { merchantJwtSecret?: unknown };
    try {
      state = JSON.parse(readFileSync(stateFile, 'utf8')) as typeof state;
    } catch {
      throw new OpsError(`${stateFile} is not valid JSON; remove it and run npm start again`);
    }
    if (typeof state.merchantJwtSecret === 'string' && state.merchantJwtSecret) {
      return { secret: state.merchantJwtSecret, source: 'the local stack' };
    }
  }
  return { secret: DEV_MERCHANT_JWT_SECRET, source: 'the development default (MERCHANT_JWT_SECRET is unset)' };
}

async function printToken(context: OpsContext, principal: MerchantPrincipal, ttlText: string | undefined): Promise<void> {
  const ttlSeconds = parseTokenTtl(ttlText ?? DEFAULT_TTL);
  const { secret, source } = resolveSecret();
  const token = await signMerchantToken(secret, principal, { ttlSeconds });
  const expires = new Date(Date.now() + ttlSeconds * 1000).toISOString();
  const who = principal.kind === 'ops' ? 'ops (may read every merchant)' : `merchant "${principal.merchantId}"`;
  // The secret itself is never printed; only where it came from.
  context.out(`token for ${who}, expires ${expires}, signed with the secret from ${source}:`);
  // Alone on the last line, so scripts can take it with `tail -n 1`.
  context.out(token);
}

/** Bearer tokens for the query API (HS256 JWTs); nothing is stored, so nothing needs a database. */
export const tokensCommands: CommandGroup = {
  name: 'tokens',
  summary: 'query API bearer tokens',
  commands: [
    {
      name: 'merchant',
      args: ['MERCHANT_ID'],
      options: { ttl: 'DURATION' },
      summary: `a token that reads one merchant's metrics (default ttl ${DEFAULT_TTL}); printed as the last line`,
      async run(context, [merchantId], options) {
        await printToken(context, { kind: 'merchant', merchantId: merchantId! }, options.ttl);
      },
    },
    {
      name: 'ops',
      args: [],
      options: { ttl: 'DURATION' },
      summary: `a token that reads every merchant's metrics (default ttl ${DEFAULT_TTL}); printed as the last line`,
      async run(context, _args, options) {
        await printToken(context, { kind: 'ops' }, options.ttl);
      },
    },
  ],
};
