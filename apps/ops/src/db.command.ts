import { redactUrl } from '@app/config';
import { migrateToLatest } from '@app/database';
import type { CommandGroup } from './cli.js';

export const dbCommands: CommandGroup = {
  name: 'db',
  summary: 'database schema',
  commands: [
    {
      name: 'migrate',
      args: [],
      summary: 'apply every pending migration',
      async run(context) {
        context.out(`migrating ${redactUrl(context.databaseUrl())}`);
        const applied = await migrateToLatest(await context.db());
        context.out(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
      },
    },
  ],
};
