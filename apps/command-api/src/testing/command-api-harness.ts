import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { createProducerApp } from '@app/access';
import { loadCommandApiConfig, type CommandApiConfig } from '@app/config';
import { PaymentEventService } from '@app/contracts';
import { createKysely, createPool } from '@app/database';
import type { LogOptions } from '@app/logging';
import { NatsServerProcess, testDatabase, type TestDatabase } from '@app/testing';
import type pg from 'pg';
import { AdminListener } from '../admin/admin-listener.js';
import { startCommandApi } from '../bootstrap.js';
import { GrpcListener } from '../grpc/grpc-listener.js';

/** A command API running in this process on its own database and nats-server. */
export interface CommandApiHarness {
  url: string;
  /** The admin port's base URL (/metrics, /health/details). */
  adminUrl: string;
  /** The gRPC port as a gRPC client's target (`127.0.0.1:PORT`); undefined with COMMAND_API_GRPC_PORT=off. */
  grpcTarget?: string;
  key: string;
  database: TestDatabase;
  nats: NatsServerProcess;
  pool: pg.Pool;
  app: NestFastifyApplication;
  client(options?: { binary?: boolean; key?: string | null }): Client<typeof PaymentEventService>;
  close(): Promise<void>;
}

/** `logs`: where the app's log lines go (silent unless TEST_LOGS=1 otherwise). */
export async function startCommandApiHarness(env: Record<string, string> = {}, logs?: LogOptions['logs']): Promise<CommandApiHarness> {
  const database = await testDatabase();
  const nats = await NatsServerProcess.start();
  const pool = createPool({ connectionString: database.url, max: 4 });
  const db = createKysely(pool);
  const { key } = await createProducerApp(db, 'test-producer');
  const config: CommandApiConfig = loadCommandApiConfig({
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
    COMMAND_API_PORT: '0',
    COMMAND_API_ADMIN_PORT: '0',
    COMMAND_API_GRPC_PORT: '0',
    ...env,
  });
  const app = await startCommandApi(config, logs ? { logs } : { logger: process.env.TEST_LOGS === '1' });
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    url,
    adminUrl: app.get(AdminListener).server!.url,
    grpcTarget: app.get(GrpcListener).address ? `127.0.0.1:${app.get(GrpcListener).address!.port}` : undefined,
    key,
    database,
    nats,
    pool,
    app,
    client({ binary = false, key: clientKey = key } = {}) {
      const auth: Interceptor = (next) => async (req) => {
        if (clientKey !== null) req.header.set('Authorization', `Bearer ${clientKey}`);
        return next(req);
      };
      return createClient(PaymentEventService, createConnectTransport({ baseUrl: url, httpVersion: '1.1', useBinaryFormat: binary, interceptors: [auth] }));
    },
    async close() {
      await app.close();
      await db.destroy();
      await nats.dispose();
      await database.drop();
    },
  };
}
