export * from './archived-event-source.js';
