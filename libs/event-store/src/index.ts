export * from './event-reader.js';
export * from './event-store.js';
export * from './new-event.js';
export * from './partition-routing.js';
