export * from './env.js';
export * from './monitoring.config.js';
export * from './command-api.config.js';
export * from './query-api.config.js';
export * from './projector.config.js';
export * from './public-secrets.js';
export * from './merchant-jwt-keys.js';
export * from './repository-root.js';
