/**
 * bench:ingest — drives the command API (a real child process) with K
 * concurrent producers sending batches of events, and measures in the same
 * run a raw COPY of the same kind of rows into the same table, on one embedded
 * PostgreSQL with default durability and one nats-server with JetStream.
 *
 *   npm run bench:ingest -- [--protocols connect,grpc] [--producers 8] [--batch 1000] [--seconds 20] [--pool 8] …
 *
 * The headline figure is stored events/s ÷ COPY rows/s. Each protocol of --protocols (Connect
 * JSON, Connect binary, gRPC) is measured in turn with the same events, on a fresh database and
 * API process, and the report compares them (events/s, request p50 and p99). See BENCHMARKS.md.
 */
await import('./support/run.js');
