export * from './producer-keys.js';
export * from './merchant-tokens.js';
