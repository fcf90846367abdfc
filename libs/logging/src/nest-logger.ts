import type { LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';

const STACK = /\n\s+at /;

/**
 * Nest's LoggerService on pino: everything logged through `new Logger('Context')` becomes one
 * record with `context`. Nest passes the context as the last argument and, for errors, a stack
 * before it; other arguments become fields (objects), `err` (errors) or `args`.
 */
export class NestPinoLogger implements LoggerService {
  constructor(readonly pino: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const rest = [...params];
    const last = rest.at(-1);
    const fields: Record<string, unknown> = {};
    if (typeof last === 'string' && !STACK.test(last)) fields.context = rest.pop();
    for (const param of rest) {
      if (param === undefined) continue;
      if (param instanceof Error) fields.err = param;
      else if (typeof param === 'string' && STACK.test(param)) fields.stack = param;
      else if (typeof param === 'object' && param !== null && !Array.isArray(param)) Object.assign(fields, param);
      else ((fields.args ??= []) as unknown[]).push(param);
    }
    let msg: string | undefined;
    if (message instanceof Error) {
      fields.err = message;
      msg = message.message;
    } else if (typeof message === 'object' && message !== null) {
      const { msg: text, message: other, ...own } = message as Record<string, unknown>;
      Object.assign(fields, own);
      msg = typeof text === 'string' ? text : typeof other === 'string' ? other : undefined;
    } else {
      msg = String(message);
    }
    this.pino[level](fields, msg);
  }
}
