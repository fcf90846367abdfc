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
  /**
   * `--name VALUE` options the command accepts, e.g. { ttl: 'DURATION' }; each may appear once, anywhere.
   * An empty VALUE makes a flag, `--name` alone, passed on as ''.
   */
  options?: Record<string, string>;
  run(context: OpsContext, args: string[], options: Record<string, string>): Promise<void>;
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

/** Columns padded to their widest cell, two spaces apart, the header first. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

export function usage(groups: CommandGroup[]): string {
  const lines = ['usage: npm run ops -- <group> <command> [arguments]', ''];
  const width = Math.max(28, ...groups.flatMap((g) => g.commands.map((c) => synopsisOf(g, c).length)));
  for (const group of groups) {
    lines.push(`${group.name}: ${group.summary}`);
    for (const command of group.commands) {
      const synopsis = synopsisOf(group, command);
      lines.push(`  ${synopsis.padEnd(width)} ${command.summary}`);
    }
  }
  lines.push(`  ${'help'.padEnd(width)} show this text`, '');
  lines.push('The database is DATABASE_URL when set, otherwise the local stack that `npm start` runs.');
  return lines.join('\n');
}

function synopsisOf(group: CommandGroup, command: OpsCommand): string {
  const options = Object.entries(command.options ?? {}).map(([name, value]) => (value ? `[--${name} ${value}]` : `[--${name}]`));
  return [group.name, command.name, ...command.args, ...options].join(' ');
}

/** Finds the command named by argv, separates its options and checks its argument count. */
export function resolveCommand(
  groups: CommandGroup[],
  argv: string[],
): { command: OpsCommand; args: string[]; options: Record<string, string> } {
  const [groupName, commandName, ...rest] = argv;
  const group = groups.find((g) => g.name === groupName);
  if (!group) throw new UsageError(groupName ? `unknown command group "${groupName}"` : 'no command given');
  const command = group.commands.find((c) => c.name === commandName);
  if (!command) {
    const known = group.commands.map((c) => c.name).join(', ');
    throw new UsageError(commandName ? `unknown command "${groupName} ${commandName}" (known: ${known})` : `"${groupName}" needs a command: ${known}`);
  }
  const { args, options } = splitOptions(rest, command, () => `usage: ${synopsisOf(group, command)}`);
  if (args.length !== command.args.length) throw new UsageError(`usage: ${synopsisOf(group, command)}`);
  return { command, args, options };
}

function splitOptions(argv: string[], command: OpsCommand, usageLine: () => string): { args: string[]; options: Record<string, string> } {
  const args: string[] = [];
  const options: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const match = /^--([a-z][a-z-]*)(?:=(.*))?$/.exec(argv[i]!);
    if (!match) {
      args.push(argv[i]!);
      continue;
    }
    const [, name, inline] = match;
    const declared = command.options && Object.hasOwn(command.options, name!) ? command.options[name!] : undefined;
    if (declared === undefined || Object.hasOwn(options, name!)) throw new UsageError(usageLine());
    const value = declared === '' ? (inline === undefined ? '' : undefined) : (inline ?? argv[++i]);
    if (value === undefined) throw new UsageError(usageLine());
    options[name!] = value;
  }
  return { args, options };
}
