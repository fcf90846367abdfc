export * from './producer-keys.js';
