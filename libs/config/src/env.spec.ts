import { describe, expect, it } from 'vitest';
import { redactUrl, redactUrlsIn } from './env.js';

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
