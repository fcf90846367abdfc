import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { CommandApiConfig } from '@app/config';
import { ReadinessProbe } from '@app/monitoring';
import type pg from 'pg';
import type { Logger as Pino } from 'pino';
import { AdminListener } from './admin/admin-listener.js';
import { InFlightLimiter } from './admission/in-flight-limiter.js';
import { ProducerAuthenticator } from './auth/producer-authenticator.js';
import { GrpcListener } from './grpc/grpc-listener.js';
import { DrainState } from './health/drain-state.js';
import { HealthController } from './health/health.controller.js';
import { commandApiReadiness } from './health/readiness.js';
import { CommandApiConfigRef } from './infrastructure/config.provider.js';
import { InfrastructureModule } from './infrastructure/infrastructure.module.js';
import { APP_LOGGER, PG_POOL } from './infrastructure/tokens.js';
import { RecordPaymentEventsConnect } from './payments/commands/record-payment-events/record-payment-events.connect.js';
import { RecordPaymentEventsEndpoint } from './payments/commands/record-payment-events/record-payment-events.endpoint.js';
import { RecordPaymentEventsGrpc } from './payments/commands/record-payment-events/record-payment-events.grpc.js';
import { RecordPaymentEventsHandler } from './payments/commands/record-payment-events/record-payment-events.handler.js';

@Module({})
export class CommandApiModule {
  static forConfig(config: CommandApiConfig, drain: DrainState, logger: Pino): DynamicModule {
    const configRef = { provide: CommandApiConfigRef, useValue: new CommandApiConfigRef(config) };
    return {
      module: CommandApiModule,
      global: true,
      imports: [CqrsModule.forRoot(), InfrastructureModule],
      controllers: [RecordPaymentEventsConnect, HealthController],
      providers: [
        configRef,
        { provide: DrainState, useValue: drain },
        { provide: APP_LOGGER, useValue: logger },
        // One bound for the Connect and the gRPC port together.
        { provide: InFlightLimiter, useValue: new InFlightLimiter(config.maxInFlightRequests) },
        ProducerAuthenticator,
        RecordPaymentEventsEndpoint,
        RecordPaymentEventsGrpc,
        RecordPaymentEventsHandler,
        GrpcListener,
        { provide: ReadinessProbe, inject: [PG_POOL], useFactory: (pool: pg.Pool) => commandApiReadiness(pool, config) },
        AdminListener,
      ],
      exports: [configRef],
    };
  }
}
