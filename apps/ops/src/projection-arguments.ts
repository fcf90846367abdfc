import { PROJECTION_NAME } from '@app/merchant-metrics';
import { OpsError, UsageError } from './cli.js';

/** Command-line arguments shared by the `projections` commands. */
export function projectionOf(name: string): string {
  if (name !== PROJECTION_NAME) throw new OpsError(`unknown projection "${name}" (known: ${PROJECTION_NAME})`);
  return name;
}

/** A required `--name N` option holding a positive integer. */
export function positiveInt(options: Record<string, string>, name: string, synopsis: string): number {
  const raw = options[name];
  if (raw === undefined) throw new UsageError(`--${name} is required: ${synopsis}`);
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) throw new UsageError(`--${name} must be a positive integer, got "${raw}"`);
  return Number(raw);
}

export function maxLagOf(options: Record<string, string>): number | undefined {
  const raw = options['max-lag'];
  if (raw === undefined) return undefined;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(raw)) throw new UsageError(`--max-lag must be a number of seconds, got "${raw}"`);
  return Number(raw);
}
