import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './create-logger.js';
import { loadLoggingConfig } from './logging.config.js';
import { NestPinoLogger } from './nest-logger.js';

function nestLogger(env: Record<string, string> = {}) {
  const lines: string[] = [];
  const nest = new NestPinoLogger(createLogger('test-app', loadLoggingConfig(env), { write: (line: string) => void lines.push(line) }));
  Logger.overrideLogger(nest);
  return () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('NestPinoLogger', () => {
  afterEach(() => Logger.overrideLogger(false));

  it("writes what Nest's Logger is given as records with its context", () => {
    const records = nestLogger({ LOG_LEVEL: 'debug' });
    const logger = new Logger('Relay');
    logger.log('published 3 events');
    logger.warn({ msg: 'slow round', partition: 7 });
    logger.debug('lease renewed', { partition: 7 });
    logger.verbose('not at debug');
    const strip = ({ time: _t, pid: _p, ...rest }: Record<string, unknown>) => rest;
    expect(records().map(strip)).toEqual([
      { level: 'info', app: 'test-app', context: 'Relay', msg: 'published 3 events' },
      { level: 'warn', app: 'test-app', context: 'Relay', partition: 7, msg: 'slow round' },
      { level: 'debug', app: 'test-app', context: 'Relay', partition: 7, msg: 'lease renewed' },
    ]);
  });

  it('keeps the stack Nest passes with an error, and an Error as err', () => {
    const records = nestLogger();
    const error = new TypeError('boom');
    Logger.error('request failed', error.stack, 'ExceptionsHandler');
    new Logger('Projector').error(error);
    const [first, second] = records();
    expect(first).toMatchObject({ level: 'error', context: 'ExceptionsHandler', msg: 'request failed', stack: error.stack });
    expect(second).toMatchObject({ level: 'error', context: 'Projector', msg: 'boom', err: { type: 'TypeError', message: 'boom', stack: error.stack } });
  });
});
