import { describe, expect, it } from 'vitest';
import { natsConnectOptions } from './nats-connector.js';

describe('natsConnectOptions', () => {
  it('takes the user and password out of the URL', () => {
    expect(natsConnectOptions('nats://projector:p%40ss@127.0.0.1:4222')).toEqual({ servers: ['nats://127.0.0.1:4222'], user: 'projector', pass: 'p@ss' });
  });

  it('reads a token', () => {
    expect(natsConnectOptions('nats://s3cret@nats:4222')).toEqual({ servers: ['nats://nats:4222'], token: 's3cret' });
  });

  it("lists a cluster's servers, with the credentials of the first URL that has them", () => {
    expect(natsConnectOptions('nats://h1:4222, nats://command-api:pw@h2:4223,nats://h3:4224')).toEqual({
      servers: ['nats://h1:4222', 'nats://h2:4223', 'nats://h3:4224'], user: 'command-api', pass: 'pw',
    });
    expect(natsConnectOptions('nats://h1:4222,nats://h2:4222')).toEqual({ servers: ['nats://h1:4222', 'nats://h2:4222'] });
  });
});
