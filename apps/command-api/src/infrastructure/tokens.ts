/** Injection tokens for values that are not classes. */
export const CONFIG = Symbol('CommandApiConfig');
export const PG_POOL = Symbol('IngestPool');
export const RELAY_POOL = Symbol('RelayPool');
export const KYSELY = Symbol('Kysely');
/** The app's pino logger (libs/logging), for listeners that write request lines as Fastify does. */
export const APP_LOGGER = Symbol('AppLogger');
