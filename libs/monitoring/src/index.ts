export * from './admin-server.js';
export * from './health-answers.js';
export * from './readiness-probe.js';
