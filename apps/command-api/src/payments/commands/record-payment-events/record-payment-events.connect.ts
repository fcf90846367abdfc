import type { IncomingMessage } from 'node:http';
import { Controller, Post, Req, Res } from '@nestjs/common';
import { create, toBinary } from '@bufbuild/protobuf';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RecordPaymentEventsResponseSchema } from '@app/contracts';
import type { ConnectError } from '../../../connect/connect-error.js';
import { checkProtocolVersion, codecOf, readBody, type Codec } from '../../../connect/unary-request.js';
import type { RecordPaymentEventsResult } from './record-payment-events.command.js';
import { RecordPaymentEventsEndpoint } from './record-payment-events.endpoint.js';

export const RECORD_PAYMENT_EVENTS_PATH = '/payments.v1.PaymentEventService/RecordPaymentEvents';

/**
 * Connect protocol (unary) framing of RecordPaymentEvents, JSON and binary,
 * over RecordPaymentEventsEndpoint (which the gRPC framing shares).
 * Hand-written rather than generated so that a bad request is answered with
 * every bad event's index and field, and so that authentication and admission
 * happen before the body is even read.
 */
@Controller()
export class RecordPaymentEventsConnect {
  constructor(private readonly endpoint: RecordPaymentEventsEndpoint) {}

  @Post(RECORD_PAYMENT_EVENTS_PATH)
  async handle(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    let codec: Codec = 'json';
    const outcome = await this.endpoint.record({
      accept() {
        checkProtocolVersion(request.headers['connect-protocol-version']);
        codec = codecOf(request.headers['content-type']);
        return codec;
      },
      authorization: request.headers.authorization,
      requestId: request.id,
      readMessage: (maxBytes, deadlineMs) => readBody(request.body as IncomingMessage, maxBytes, deadlineMs),
    });
    if (outcome.ok) await succeed(reply, codec, outcome.result);
    else await fail(reply, outcome.error);
  }
}

async function succeed(reply: FastifyReply, codec: Codec, result: RecordPaymentEventsResult): Promise<void> {
  if (codec === 'proto') {
    const message = create(RecordPaymentEventsResponseSchema, result);
    await reply.code(200).header('content-type', 'application/proto').send(Buffer.from(toBinary(RecordPaymentEventsResponseSchema, message)));
  } else {
    await reply.code(200).header('content-type', 'application/json').send(JSON.stringify({ accepted: result.accepted, duplicates: result.duplicates }));
  }
}

async function fail(reply: FastifyReply, error: ConnectError): Promise<void> {
  // Connect unary errors are always JSON, whatever the request codec. A refused client's connection is closed:
  // a producer retrying with backoff reconnects, and one holding connections open to no purpose loses them.
  if (error.code === 'resource_exhausted' || error.code === 'unauthenticated') reply.header('connection', 'close');
  await reply.code(error.httpStatus).headers(error.headers).header('content-type', 'application/json').send(JSON.stringify(error));
}
