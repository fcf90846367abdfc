import { createProducerApp, listProducerApps, parseMerchantList, restrictProducerApp, revokeProducerApp } from '@app/access';
import { OpsError, UsageError, type CommandGroup } from './cli.js';

/** Merchants shown per app by `apps list`; the rest are counted. */
const LISTED_MERCHANTS = 5;

/** Producer apps: who may submit events, each with its own key, for any merchant or only those it is restricted to. */
export const appsCommands: CommandGroup = {
  name: 'apps',
  summary: 'producer apps and their keys',
  commands: [
    {
      name: 'create',
      args: ['NAME'],
      options: { merchants: 'ID,ID,…' },
      summary: 'register a producer app (with --merchants, it may submit events for those merchants only); prints its key (shown once) as the last line',
      async run(context, [name], options) {
        const merchantIds = options.merchants === undefined ? null : parseMerchantList(options.merchants);
        const app = await createProducerApp(await context.db(), name!, { merchantIds });
        context.out(`created producer app "${app.name}" (id ${app.appId}), ${describeMerchants(merchantIds)}`);
        context.out('its key follows; it is shown only now, the database keeps only its SHA-256 hash:');
        // Alone on the last line, so scripts can take it with `tail -n 1`.
        context.out(app.key);
      },
    },
    {
      name: 'restrict',
      args: ['NAME'],
      options: { merchants: 'ID,ID,…', any: '' },
      summary: 'let an app submit events for these merchants only (--merchants, at most 1,000), or for any merchant again (--any); running command APIs apply it at once',
      async run(context, [name], options) {
        if ((options.merchants === undefined) === (options.any === undefined)) {
          throw new UsageError('usage: apps restrict NAME --merchants ID,ID,… | --any (exactly one of them)');
        }
        const merchantIds = options.merchants === undefined ? null : parseMerchantList(options.merchants);
        if (!(await restrictProducerApp(await context.db(), name!, merchantIds))) {
          throw new OpsError(`no active producer app named "${name}"`);
        }
        context.out(`producer app "${name}" now submits events ${describeMerchants(merchantIds)}`);
      },
    },
    {
      name: 'list',
      args: [],
      summary: 'list producer apps',
      async run(context) {
        const apps = await listProducerApps(await context.db());
        if (apps.length === 0) {
          context.out('no producer apps');
          return;
        }
        const width = Math.max(4, ...apps.map((a) => a.name.length));
        context.out(`${'NAME'.padEnd(width)}  STATUS   CREATED                   APP ID                                MERCHANTS`);
        for (const app of apps) {
          const status = app.revokedAt ? 'revoked' : 'active';
          const merchants = app.merchantIds === null ? 'any' : shortList([...app.merchantIds]);
          context.out(`${app.name.padEnd(width)}  ${status.padEnd(7)}  ${app.createdAt.toISOString().padEnd(24)}  ${app.appId}  ${merchants}`);
        }
      },
    },
    {
      name: 'revoke',
      args: ['NAME'],
      summary: 'revoke a producer app; running command APIs refuse its key at once',
      async run(context, [name]) {
        if (!(await revokeProducerApp(await context.db(), name!))) {
          throw new OpsError(`no active producer app named "${name}"`);
        }
        context.out(`revoked producer app "${name}"`);
      },
    },
  ],
};

function describeMerchants(merchantIds: string[] | null): string {
  if (merchantIds === null) return 'for any merchant';
  return `for ${merchantIds.length === 1 ? 'merchant' : `${merchantIds.length} merchants`} ${shortList(merchantIds)} only`;
}

function shortList(merchantIds: string[]): string {
  const shown = merchantIds.slice(0, LISTED_MERCHANTS).join(',');
  return merchantIds.length > LISTED_MERCHANTS ? `${shown},… (${merchantIds.length})` : shown;
}
