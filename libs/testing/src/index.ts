export * from './eventually.js';
export { freePort, NATS_CONFIG, NatsServerProcess, waitForPort, type NatsPasswords } from '@app/ha';
export * from './postgres.js';
export * from './test-env.js';
