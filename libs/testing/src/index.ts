export * from './eventually.js';
export * from './nats-server.js';
export * from './ports.js';
export * from './postgres.js';
export * from './test-env.js';
