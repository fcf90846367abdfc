import { describe, expect, it } from 'vitest';
import { prettyLine } from './pretty-stream.js';

/** A record's time as prettyLine shows it: the local clock. */
function clock(iso: string): string {
  const t = new Date(iso);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${pad(t.getMilliseconds(), 3)}`;
}

describe('prettyLine', () => {
  const time = '2026-11-20T03:04:05.067Z';

  it('writes time, level, context and message, then the other fields as key=value', () => {
    const record = { level: 'info', time, app: 'command-api', pid: 42, reqId: 'r-1', method: 'POST', url: '/x', status: 200, durationMs: 3.5, msg: 'request completed' };
    expect(prettyLine(JSON.stringify(record))).toBe(`${clock(time)} INFO  request completed reqId=r-1 method=POST url=/x status=200 durationMs=3.5`);
    const withContext = { level: 'warn', time, context: 'Relay', msg: 'slow\nround', note: 'two words', lag: { p1: 3 } };
    expect(prettyLine(JSON.stringify(withContext))).toBe(`${clock(time)} WARN  [Relay] slow ⏎ round note="two words" lag={"p1":3}`);
  });

  it('puts an error and its frames on the one line', () => {
    const err = { type: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at f (a.ts:1:2)\n    at g (b.ts:3:4)' };
    expect(prettyLine(JSON.stringify({ level: 'error', time, msg: 'failed', err }))).toBe(
      `${clock(time)} ERROR failed err="TypeError: boom (at f (a.ts:1:2) < at g (b.ts:3:4))"`,
    );
  });

  it('passes a line that is not a record through', () => {
    expect(prettyLine('plain text\n')).toBe('plain text');
  });
});
