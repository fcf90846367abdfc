import { createProducerApp, listProducerApps, revokeProducerApp } from '@app/access';
import { OpsError, type CommandGroup } from './cli.js';

/** Producer apps: who may submit events, each with its own key. */
export const appsCommands: CommandGroup = {
  name: 'apps',
  summary: 'producer apps and their keys',
  commands: [
    {
      name: 'create',
      args: ['NAME'],
      summary: 'register a producer app; prints its key (shown once) as the last line',
      async run(context, [name]) {
        const app = await createProducerApp(await context.db(), name!);
        context.out(`created producer app "${app.name}" (id ${app.appId})`);
        context.out('its key follows; it is shown only now, the database keeps only its SHA-256 hash:');
        // Alone on the last line, so scripts can take it with `tail -n 1`.
        context.out(app.key);
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
        context.out(`${'NAME'.padEnd(width)}  STATUS   CREATED                   APP ID`);
        for (const app of apps) {
          const status = app.revokedAt ? 'revoked' : 'active';
          context.out(`${app.name.padEnd(width)}  ${status.padEnd(7)}  ${app.createdAt.toISOString().padEnd(24)}  ${app.appId}`);
        }
      },
    },
    {
      name: 'revoke',
      args: ['NAME'],
      summary: 'revoke a producer app; running command APIs refuse its key within 30 s (they cache known keys that long)',
      async run(context, [name]) {
        if (!(await revokeProducerApp(await context.db(), name!))) {
          throw new OpsError(`no active producer app named "${name}"`);
        }
        context.out(`revoked producer app "${name}"`);
      },
    },
  ],
};
