import { projectionCatalog } from '@app/projection-catalog';
import type { ProjectionDefinition } from '@app/projections';
import { OpsError, UsageError } from './cli.js';

/** Command-line arguments shared by the `projections` commands: a projection of the catalog. */
export function definitionOf(name: string): ProjectionDefinition {
  const definition = projectionCatalog.find(name);
  if (!definition) throw new OpsError(`unknown projection "${name}" (known: ${projectionCatalog.names.join(', ')})`);
  return definition;
}

/** The name of a projection of the catalog. */
export function projectionOf(name: string): string {
  return definitionOf(name).name;
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
