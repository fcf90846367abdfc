import type { DestinationStream } from 'pino';

/** Fields every line has, shown in the line's head or not at all (npm start names the app already). */
const HEAD = new Set(['time', 'level', 'app', 'pid', 'context', 'msg']);

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function valueOf(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** A stack's frames, one after the other on one line. */
function framesOf(stack: string): string {
  return stack.split('\n').map((frame) => frame.trim()).filter((frame) => frame.startsWith('at ')).join(' < ');
}

/** An error's type and message, and its frames. */
function errorOf(err: { type?: string; message?: string; stack?: string }): string {
  const frames = framesOf(err.stack ?? '');
  return JSON.stringify(`${err.type ?? 'Error'}: ${err.message ?? ''}${frames ? ` (${frames})` : ''}`);
}

/**
 * One JSON record as one line for a person: local time, level, [context], message, then the
 * other fields as key=value. A line that is not a record passes through as it is.
 */
export function prettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const time = new Date(String(record.time));
  const clock = Number.isNaN(time.getTime())
    ? '--:--:--.---'
    : `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}.${pad(time.getMilliseconds(), 3)}`;
  const parts = [clock, String(record.level ?? '').toUpperCase().padEnd(5)];
  if (record.context !== undefined) parts.push(`[${String(record.context)}]`);
  if (record.msg !== undefined) parts.push(String(record.msg).replace(/\s*\n\s*/g, ' ⏎ '));
  for (const [key, value] of Object.entries(record)) {
    if (HEAD.has(key) || value === undefined) continue;
    if (key === 'err' && typeof value === 'object' && value !== null) parts.push(`err=${errorOf(value)}`);
    else parts.push(`${key}=${key === 'stack' && typeof value === 'string' ? JSON.stringify(framesOf(value)) : valueOf(value)}`);
  }
  return parts.join(' ');
}

/** LOG_FORMAT=pretty: pino writes a record per write; each goes out as prettyLine's one line. */
export function prettyStream(out: NodeJS.WritableStream): DestinationStream {
  return { write: (json: string) => void out.write(`${prettyLine(json)}\n`) };
}
