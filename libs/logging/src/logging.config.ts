import { ConfigError, readString } from '@app/config';
import type { LevelWithSilent } from 'pino';

export type LogFormat = 'json' | 'pretty';

export interface LoggingConfig {
  level: LevelWithSilent;
  /** `json`: one JSON object per line; `pretty`: one line a human reads (npm start). */
  format: LogFormat;
  /** Redaction paths beside the built-in ones (pino's syntax: `a.b`, `*.b`, `a["b-c"]`). */
  redact: string[];
}

const LEVELS: readonly LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const FORMATS: readonly LogFormat[] = ['json', 'pretty'];
const SEGMENT = String.raw`(?:\*|[\w$-]+|\["[^"\]]+"\])`;
const REDACT_PATH = new RegExp(String.raw`^${SEGMENT}(?:\.${SEGMENT}|\["[^"\]]+"\])*$`);

/** LOG_LEVEL (info), LOG_FORMAT (json) and LOG_REDACT (comma-separated paths), checked at start-up. */
export function loadLoggingConfig(env: Record<string, string | undefined> = process.env): LoggingConfig {
  const level = readString(env, 'LOG_LEVEL', 'info') as LevelWithSilent;
  if (!LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL must be one of ${LEVELS.join(', ')}; got "${level}"`);
  const format = readString(env, 'LOG_FORMAT', 'json') as LogFormat;
  if (!FORMATS.includes(format)) throw new ConfigError(`LOG_FORMAT must be one of ${FORMATS.join(', ')}; got "${format}"`);
  const redact = (env.LOG_REDACT ?? '').split(',').map((path) => path.trim()).filter((path) => path !== '');
  const bad = redact.find((path) => !REDACT_PATH.test(path));
  if (bad !== undefined) throw new ConfigError(`LOG_REDACT has a path pino cannot read: "${bad}" (write a.b, *.b or a["b-c"])`);
  return { level, format, redact };
}
