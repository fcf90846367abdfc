/**
 * bench:ingest — drives the command API (a real child process) with K
 * concurrent producers sending batches of events, and measures in the same
 * run a raw COPY of the same kind of rows into the same table, on one embedded
 * PostgreSQL with default durability and one nats-server with JetStream.
 *
 *   npm run bench:ingest -- [--producers 8] [--batch 1000] [--seconds 20] [--pool 8] …
 *
 * The headline figure is stored events/s ÷ COPY rows/s. See BENCHMARKS.md.
 */
await import('./support/run.js');
