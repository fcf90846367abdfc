import { describe, expect, it } from 'vitest';
import { readUrlList, redactUrl, redactUrlsIn } from './env.js';

describe('redactUrl', () => {
  it.each([
    ['postgres://app:s3cret@db:5432/payments', 'postgres://app:***@db:5432/payments'],
    ['postgres://db:5432/payments?password=s3cret&sslmode=require', 'postgres://db:5432/payments?password=***&sslmode=require'],
    ['postgresql://app@db/payments?user=app&PassWord=s3cret', 'postgresql://app@db/payments?user=app&PassWord=***'],
    ['nats://tok3n@nats:4222', 'nats://***@nats:4222'],
    ['nats://user:pa55@nats:4222', 'nats://user:***@nats:4222'],
    ['nats://nats:4222?token=tok3n', 'nats://nats:4222?token=***'],
    ['postgres://app@db:5432/payments', 'postgres://app@db:5432/payments'],
  ])('%s is logged as %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
    expect(redactUrl(url)).not.toMatch(/s3cret|tok3n|pa55/);
  });

  it('says nothing of a URL it cannot parse', () => {
    expect(redactUrl('not a url with s3cret')).toBe('<unparseable url>');
  });
});

describe('redactUrlsIn', () => {
  it('redacts each URL of a text that holds a credential and leaves the rest as written', () => {
    const text = 'cannot connect to postgres://app:s3cret@db:5432/payments (then nats://nats:4222?token=tok3n), served at http://127.0.0.1:4000';
    expect(redactUrlsIn(text)).toBe(
      'cannot connect to postgres://app:***@db:5432/payments (then nats://nats:4222?token=***), served at http://127.0.0.1:4000',
    );
  });

  it('replaces a URL with a user part it cannot parse', () => {
    expect(redactUrlsIn('at http://app:s3cret@db:99999/x now')).toBe('at <unparseable url> now');
  });

  it('leaves text without URLs alone', () => {
    expect(redactUrlsIn('password is not a URL')).toBe('password is not a URL');
  });
});

describe('readUrlList (a cluster of NATS servers)', () => {
  it('takes one URL or several, each checked, and redacts each', () => {
    const env = { NATS_URL: 'nats://projector:pa55@h1:4222,nats://h2:4222, nats://h3:4222' };
    expect(readUrlList(env, 'NATS_URL', ['nats:', 'tls:'])).toBe(env.NATS_URL);
    expect(redactUrl(env.NATS_URL)).toBe('nats://projector:***@h1:4222,nats://h2:4222,nats://h3:4222');
  });

  it('refuses a list with one bad entry, naming the variable', () => {
    expect(() => readUrlList({ NATS_URL: 'nats://h1:4222,http://h2:4222' }, 'NATS_URL', ['nats:', 'tls:'])).toThrow('NATS_URL must use one of nats:, tls:; got http:');
    expect(() => readUrlList({ NATS_URL: 'nats://h1:4222,' }, 'NATS_URL', ['nats:'])).toThrow('NATS_URL has an empty entry in its list of URLs');
    expect(() => readUrlList({ NATS_URL: 'nats://h1:4222,not a url' }, 'NATS_URL', ['nats:'])).toThrow('NATS_URL is not a valid URL');
  });
});
