import { Injectable } from '@nestjs/common';
import { create, toBinary } from '@bufbuild/protobuf';
import { RecordPaymentEventsResponseSchema } from '@app/contracts';
import type { GrpcMethod } from '../../../grpc/grpc-method.js';
import type { GrpcServerCall } from '../../../grpc/grpc-call.js';
import { RECORD_PAYMENT_EVENTS_PATH } from './record-payment-events.connect.js';
import { RecordPaymentEventsEndpoint } from './record-payment-events.endpoint.js';

/**
 * gRPC framing of RecordPaymentEvents over RecordPaymentEventsEndpoint, the
 * code the Connect endpoint runs: the same admission, authentication
 * (`authorization` metadata), validation messages and answers.
 */
@Injectable()
export class RecordPaymentEventsGrpc implements GrpcMethod {
  readonly path = RECORD_PAYMENT_EVENTS_PATH;

  constructor(private readonly endpoint: RecordPaymentEventsEndpoint) {}

  async handle(call: GrpcServerCall): Promise<void> {
    const outcome = await this.endpoint.record({
      accept() {
        call.check();
        return call.codec;
      },
      authorization: call.authorization,
      requestId: call.requestId,
      readMessage: (maxBytes, deadlineMs) => call.readMessage(maxBytes, deadlineMs),
    });
    if (!outcome.ok) return call.fail(outcome.error);
    const { accepted, duplicates } = outcome.result;
    call.succeed(call.codec === 'json'
      ? Buffer.from(JSON.stringify({ accepted, duplicates }))
      : toBinary(RecordPaymentEventsResponseSchema, create(RecordPaymentEventsResponseSchema, { accepted, duplicates })));
  }
}
