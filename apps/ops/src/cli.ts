import type { Kysely } from 'kysely';
import type { Database } from '@app/database';

/** What a command may use. The database connects on first use, so `help` needs none. */
export interface OpsContext {
  db(): Promise<Kysely<Database>>;
  databaseUrl(): string;
  out(line: string): void;
}

export interface OpsCommand {
  name: string;
  /** Positional arguments, as shown in the usage text, e.g. ['NAME']. */
  args: string[];
  summary: string;
  run(context: OpsContext, args: string[]): Promise<void>;
}

export interface CommandGroup {
  name: string;
  summary: string;
  commands: OpsCommand[];
}

/** A command line that names no command, or passes the wrong arguments: exit code 2. */
export class UsageError extends Error {}

/** A failure the user can act on; printed as one line, exit code 1. */
export class OpsError extends Error {}

export function usage(groups: CommandGroup[]): string {
  const lines = ['usage: npm run ops -- <group> <command> [arguments]', ''];
  for (const group of groups) {
    lines.push(`${group.name}: ${group.summary}`);
    for (const command of group.commands) {
      const synopsis = [group.name, command.name, ...command.args].join(' ');
      lines.push(`  ${synopsis.padEnd(28)} ${command.summary}`);
    }
  }
  lines.push(`  ${'help'.padEnd(28)} show this text`, '');
  lines.push('The database is DATABASE_URL when set, otherwise the local stack that `npm start` runs.');
  return lines.join('\n');
}

/** Finds the command named by argv and checks its argument count. */
export function resolveCommand(groups: CommandGroup[], argv: string[]): { command: OpsCommand; args: string[] } {
  const [groupName, commandName, ...args] = argv;
  const group = groups.find((g) => g.name === groupName);
  if (!group) throw new UsageError(groupName ? `unknown command group "${groupName}"` : 'no command given');
  const command = group.commands.find((c) => c.name === commandName);
  if (!command) {
    const known = group.commands.map((c) => c.name).join(', ');
    throw new UsageError(commandName ? `unknown command "${groupName} ${commandName}" (known: ${known})` : `"${groupName}" needs a command: ${known}`);
  }
  if (args.length !== command.args.length) {
    throw new UsageError(`usage: ${[group.name, command.name, ...command.args].join(' ')}`);
  }
  return { command, args };
}
