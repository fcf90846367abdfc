export * from './generated-events.js';
export * from './read-model-totals.js';
