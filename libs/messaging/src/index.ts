export * from './event-batch-message.js';
export * from './nats-connector.js';
export * from './nats-password.js';
export * from './payments-stream.js';
export * from './publication-relay.js';
