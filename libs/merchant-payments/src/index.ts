export * from './merchant-payments.definition.js';
export * from './payment-search.js';
export { createPaymentTables } from './payment-tables.js';
export { MAX_POSITIONS } from './payment-row.js';
