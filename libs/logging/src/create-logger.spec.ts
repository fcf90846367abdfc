import { describe, expect, it } from 'vitest';
import { createLogger } from './create-logger.js';
import { loadLoggingConfig } from './logging.config.js';

function capture(env: Record<string, string> = {}) {
  const lines: string[] = [];
  const logger = createLogger('test-app', loadLoggingConfig(env), { write: (line: string) => void lines.push(line) });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe('createLogger', () => {
  it('writes one JSON object per line: level, time, app, pid, the fields and msg', () => {
    const { logger, lines, records } = capture();
    logger.info({ context: 'Orders', merchantId: 'm-1', count: 3 }, 'recorded %d events', 3);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('}\n')).toBe(true);
    const [record] = records();
    expect(record).toEqual({
      level: 'info', time: expect.any(String), app: 'test-app', pid: process.pid, context: 'Orders', merchantId: 'm-1', count: 3, msg: 'recorded 3 events',
    });
    expect(new Date(record!.time as string).toISOString()).toBe(record!.time);
  });

  it('writes records at LOG_LEVEL and above only', () => {
    const { logger, records } = capture({ LOG_LEVEL: 'warn' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(records().map((r) => [r.level, r.msg])).toEqual([['warn', 'w'], ['error', 'e']]);
  });

  it('hides URL credentials in the message and in string fields, and censors fields named as secrets at any depth', () => {
    const { logger, lines, records } = capture();
    logger.error(
      {
        database: 'postgres://app:s3cret@db:5432/payments?sslmode=require',
        detail: { cause: 'could not reach nats://nats:4222?token=tok3n' },
        headers: { authorization: 'Bearer pk_live_abc', 'content-type': 'application/json' },
        req: { method: 'POST', url: '/x?password=pa55', headers: { authorization: 'Bearer pk_live_abc' } },
        password: 'pa55',
        config: { secret: 'pa55', port: 5432 },
        upstream: { request: { headers: { Authorization: 'Basic cGE1NQ==', 'Set-Cookie': 'sid=pa55' } } },
      },
      'cannot connect to postgres://app:s3cret@db:5432/payments?password=pa55&sslmode=require',
    );
    expect(lines[0]).not.toMatch(/s3cret|tok3n|pa55|cGE1NQ|pk_live/);
    expect(records()[0]).toMatchObject({
      msg: 'cannot connect to postgres://app:***@db:5432/payments?password=***&sslmode=require',
      database: 'postgres://app:***@db:5432/payments?sslmode=require',
      detail: { cause: 'could not reach nats://nats:4222?token=***' },
      headers: { authorization: '***', 'content-type': 'application/json' },
      req: { method: 'POST', url: '/x' },
      password: '***',
      config: { secret: '***', port: 5432 },
      upstream: { request: { headers: { Authorization: '***', 'Set-Cookie': '***' } } },
    });
  });

  it('hides URL credentials in an error message and stack', () => {
    const { lines, logger, records } = capture();
    logger.error({ err: new Error('connect ECONNREFUSED postgres://app:s3cret@db/payments') }, 'failed');
    expect(lines[0]).not.toContain('s3cret');
    expect(records()[0]!.err).toMatchObject({ type: 'Error', message: 'connect ECONNREFUSED postgres://app:***@db/payments' });
  });

  it('censors the paths LOG_REDACT adds', () => {
    const { logger, records } = capture({ LOG_REDACT: 'merchant.iban, card["pan"]' });
    logger.info({ merchant: { iban: 'DE44500105175407324931', name: 'Kiosk' }, card: { pan: '4111111111111111' } }, 'onboarded');
    expect(records()[0]).toMatchObject({ merchant: { iban: '***', name: 'Kiosk' }, card: { pan: '***' } });

    const plain = capture();
    plain.logger.info({ merchant: { iban: 'DE44500105175407324931' } }, 'onboarded');
    expect(plain.records()[0]).toMatchObject({ merchant: { iban: 'DE44500105175407324931' } });
  });

  it('cuts a long message and a long field at 8,192 characters, and bounds a record however many fields it has', () => {
    const { logger, lines, records } = capture();
    logger.info({ body: 'b'.repeat(100_000) }, 'a'.repeat(100_000));
    const [record] = records();
    expect(record!.msg).toBe(`${'a'.repeat(8_192)}… (91808 more characters cut)`);
    expect(record!.body).toBe(`${'b'.repeat(8_192)}… (91808 more characters cut)`);

    logger.info({ rows: Array.from({ length: 100_000 }, (_, i) => ({ id: i, note: 'n'.repeat(100) })) }, 'many');
    expect(lines[1]!.length).toBeLessThan(64 * 1024);
    expect(records()[1]!.rows).toContainEqual({ id: 0, note: 'n'.repeat(100) });
  });
});
