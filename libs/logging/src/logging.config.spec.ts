import { describe, expect, it } from 'vitest';
import { loadLoggingConfig } from './logging.config.js';

describe('loadLoggingConfig', () => {
  it('defaults to info, json and no extra redaction', () => {
    expect(loadLoggingConfig({})).toEqual({ level: 'info', format: 'json', redact: [] });
  });

  it('reads LOG_LEVEL, LOG_FORMAT and the comma-separated LOG_REDACT', () => {
    expect(loadLoggingConfig({ LOG_LEVEL: 'debug', LOG_FORMAT: 'pretty', LOG_REDACT: ' a.b ,*.c,d["e-f"],' })).toEqual({
      level: 'debug', format: 'pretty', redact: ['a.b', '*.c', 'd["e-f"]'],
    });
  });

  it.each([
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent; got "loud"'],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT must be one of json, pretty; got "xml"'],
    [{ LOG_REDACT: 'a..b' }, 'LOG_REDACT has a path pino cannot read: "a..b" (write a.b, *.b or a["b-c"])'],
  ])('refuses %o', (env, message) => {
    expect(() => loadLoggingConfig(env)).toThrow(message);
  });
});
