import { randomBytes } from 'node:crypto';

/**
 * nats-server reads an environment variable's value as configuration
 * (deploy/nats-server.conf takes its users' passwords so): a value that
 * starts with a digit, such as `5e64…`, is read as a number and the server
 * refuses to start. A password for it starts with a letter.
 */
export function isUsableNatsPassword(value: string): boolean {
  return /^[a-z]/i.test(value);
}

/** A fresh password for a user of deploy/nats-server.conf. */
export function newNatsPassword(): string {
  return `n${randomBytes(18).toString('hex')}`;
}
