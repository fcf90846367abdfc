export * from './producer-keys.js';
export * from './merchant-tokens.js';
export * from './revoked-tokens.js';
export * from './dashboard-link.js';
