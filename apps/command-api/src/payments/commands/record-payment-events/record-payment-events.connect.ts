import type { IncomingMessage } from 'node:http';
import { Controller, Logger, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  RecordPaymentEventsRequestSchema,
  RecordPaymentEventsResponseSchema,
} from '@app/contracts';
import { MerchantNotPermittedError } from '@app/access';
import { EventConflictError } from '@app/event-store';
import { formatValidationErrors, requestFromProto, validateRecordRequest } from '@app/payments';
import { InFlightLimiter } from '../../../admission/in-flight-limiter.js';
import { ProducerAuthenticator } from '../../../auth/producer-authenticator.js';
import { ConnectError } from '../../../connect/connect-error.js';
import { checkProtocolVersion, codecOf, readBody, type Codec } from '../../../connect/unary-request.js';
import { CommandApiConfigRef } from '../../../infrastructure/config.provider.js';
import { CommandApiMetrics } from '../../../metrics/command-api.metrics.js';
import { RecordPaymentEventsCommand, type RecordPaymentEventsResult } from './record-payment-events.command.js';

export const RECORD_PAYMENT_EVENTS_PATH = '/payments.v1.PaymentEventService/RecordPaymentEvents';

/**
 * Connect protocol (unary) adapter for RecordPaymentEvents, JSON and binary.
 * Hand-written rather than generated so that a bad request is answered with
 * every bad event's index and field, and so that authentication and admission
 * happen before the body is even read.
 */
@Controller()
export class RecordPaymentEventsConnect {
  private readonly logger = new Logger('RecordPaymentEvents');

  constructor(
    private readonly commandBus: CommandBus,
    private readonly authenticator: ProducerAuthenticator,
    private readonly limiter: InFlightLimiter,
    private readonly metrics: CommandApiMetrics,
    private readonly config: CommandApiConfigRef,
  ) {}

  @Post(RECORD_PAYMENT_EVENTS_PATH)
  async handle(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const stopTimer = this.metrics.requestDuration.startTimer();
    let codec: Codec = 'json';
    let producer;
    try {
      // Checked before a slot is taken: a request that will be refused never holds one.
      checkProtocolVersion(request.headers['connect-protocol-version']);
      codec = codecOf(request.headers['content-type']);
      producer = await this.authenticator.authenticate(request.headers.authorization);
    } catch (error) {
      await this.fail(reply, codec, this.toConnectError(error, request.id));
      stopTimer();
      return;
    }
    if (!this.limiter.tryAcquire()) {
      await this.fail(reply, codec, new ConnectError('resource_exhausted', 'server overloaded: too many requests in flight; retry with backoff'));
      stopTimer();
      return;
    }
    this.metrics.inFlight.inc();
    try {
      const body = await readBody(request.body as IncomingMessage, this.config.value.maxBodyBytes, this.config.value.bodyTimeoutMs);
      const events = this.validate(decode(codec, body));
      const result: RecordPaymentEventsResult = await this.commandBus.execute(new RecordPaymentEventsCommand(events, producer, request.id));
      await this.succeed(reply, codec, result);
    } catch (error) {
      await this.fail(reply, codec, this.toConnectError(error, request.id));
    } finally {
      this.limiter.release();
      this.metrics.inFlight.dec();
      stopTimer();
    }
  }

  private validate(body: unknown) {
    const result = validateRecordRequest(body, { now: new Date(), maxFutureSkewMs: this.config.value.maxFutureSkewMs });
    if (!result.ok) throw new ConnectError('invalid_argument', formatValidationErrors(result.errors));
    return result.events;
  }

  private toConnectError(error: unknown, requestId: string): ConnectError {
    if (error instanceof ConnectError) return error;
    if (error instanceof EventConflictError) return new ConnectError('already_exists', error.message);
    if (error instanceof MerchantNotPermittedError) return new ConnectError('permission_denied', error.message);
    this.logger.error(`RecordPaymentEvents failed (request ${requestId}): ${error instanceof Error ? error.stack : String(error)}`);
    const transient = error instanceof Error && /ECONNREFUSED|terminating connection|Connection terminated|timeout/i.test(error.message);
    return transient
      ? new ConnectError('unavailable', 'event store temporarily unavailable; retry with backoff')
      : new ConnectError('internal', 'internal error; nothing was stored');
  }

  private async succeed(reply: FastifyReply, codec: Codec, result: RecordPaymentEventsResult): Promise<void> {
    this.metrics.requests.inc({ code: 'ok' });
    if (codec === 'proto') {
      const message = create(RecordPaymentEventsResponseSchema, result);
      await reply.code(200).header('content-type', 'application/proto').send(Buffer.from(toBinary(RecordPaymentEventsResponseSchema, message)));
    } else {
      await reply.code(200).header('content-type', 'application/json').send(JSON.stringify({ accepted: result.accepted, duplicates: result.duplicates }));
    }
  }

  private async fail(reply: FastifyReply, _codec: Codec, error: ConnectError): Promise<void> {
    this.metrics.requests.inc({ code: error.code });
    // Connect unary errors are always JSON, whatever the request codec.
    if (error.code === 'resource_exhausted' || error.code === 'unauthenticated') reply.header('connection', 'close');
    await reply.code(error.httpStatus).headers(error.headers).header('content-type', 'application/json').send(JSON.stringify(error));
  }
}

function decode(codec: Codec, body: Buffer): unknown {
  if (codec === 'proto') {
    try {
      return requestFromProto(fromBinary(RecordPaymentEventsRequestSchema, body));
    } catch (error) {
      throw new ConnectError('invalid_argument', `request body is not a valid binary RecordPaymentEventsRequest: ${(error as Error).message}`);
    }
  }
  if (body.length === 0) throw new ConnectError('invalid_argument', 'empty request body: expected {"events": [...]}');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ConnectError('invalid_argument', `request body is not valid JSON: ${(error as Error).message}`);
  }
}
