export * from './app-logging.js';
export * from './create-logger.js';
export * from './logging.config.js';
export * from './nest-logger.js';
export * from './pretty-stream.js';
export * from './request-id.js';
export * from './request-logging.js';
export * from './scrub.js';
