/**
 * The ops CLI: `npm run ops -- <group> <command> …`. Exit codes: 0 done,
 * 1 the command failed (one line on stderr), 2 the command line was wrong.
 */
import type { Database } from '@app/database';
import type { Kysely } from 'kysely';
import { appsCommands } from './apps.command.js';
import { archiveCommands } from './archive.command.js';
import { UsageError, resolveCommand, usage, type CommandGroup, type OpsContext } from './cli.js';
import { clusterCommands } from './cluster.command.js';
import { connect, resolveDatabaseUrl } from './database.js';
import { dbCommands } from './db.command.js';
import { projectionsCommands } from './projections.command.js';
import { tokensCommands } from './tokens.command.js';

/** New groups (projections, tokens, …) join this list. */
const groups: CommandGroup[] = [appsCommands, archiveCommands, clusterCommands, dbCommands, projectionsCommands, tokensCommands];

async function run(argv: string[]): Promise<number> {
  if (argv.length === 1 && ['help', '--help', '-h'].includes(argv[0]!)) {
    console.log(usage(groups));
    return 0;
  }
  let db: Kysely<Database> | undefined;
  try {
    const { command, args, options } = resolveCommand(groups, argv);
    let url: string | undefined;
    const databaseUrl = () => (url ??= resolveDatabaseUrl());
    const context: OpsContext = {
      databaseUrl,
      db: async () => (db ??= await connect(databaseUrl())),
      out: (line) => console.log(line),
    };
    await command.run(context, args, options);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`ops: ${error.message}\n\n${usage(groups)}`);
      return 2;
    }
    // OpsError, ProducerAppNameError, ConfigError and database errors all carry a message meant for the user.
    const message = error instanceof Error ? error.message : String(error);
    console.error(`ops: ${message.replace(/\s*\n\s*/g, ' ')}`);
    return 1;
  } finally {
    await db?.destroy();
  }
}

process.exitCode = await run(process.argv.slice(2));
