export * from './database.js';
export * from './schema.js';
export * from './migrate.js';
export * from './prepared-statements.js';
export * from './roles.js';
export * from './private-initdb.js';
export * from './embedded-postgres.js';
