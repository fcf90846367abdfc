import { redactUrl } from '@app/config';
import { ensureMemberLogin, migrateToLatest } from '@app/database';
import { OpsError, UsageError, type CommandGroup } from './cli.js';

/** Group roles the migrations create, which an app's login may join. */
const GROUP_ROLES = ['payments_writer', 'projection_writer', 'read_model_reader', 'analyst', 'event_archivist'];

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
    {
      name: 'login',
      args: ['ROLE'],
      options: { 'member-of': 'GROUP' },
      summary: `create a login ROLE in group GROUP (${GROUP_ROLES.join(' or ')}) with no other rights, or set an existing login's password; the password is read from LOGIN_PASSWORD, never from the command line`,
      async run(context, [role], options) {
        const group = options['member-of'];
        if (group === undefined || !GROUP_ROLES.includes(group)) {
          throw new UsageError(`db login ROLE --member-of GROUP: GROUP is one of ${GROUP_ROLES.join(', ')}`);
        }
        const password = process.env.LOGIN_PASSWORD;
        if (!password) throw new OpsError('set LOGIN_PASSWORD to the password of the login (it is not taken from the command line, where other users could see it)');
        try {
          await ensureMemberLogin(context.databaseUrl(), { role: role!, password, memberOf: group });
        } catch (error) {
          throw new OpsError(`cannot set up login ${role}: ${error instanceof Error ? error.message : String(error)}`);
        }
        context.out(`login ${role} is a member of ${group}; connect as it with the password in LOGIN_PASSWORD`);
      },
    },
  ],
};
