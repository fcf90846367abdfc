import { Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { fromBinary } from '@bufbuild/protobuf';
import { RecordPaymentEventsRequestSchema } from '@app/contracts';
import { MerchantNotPermittedError, type ProducerApp } from '@app/access';
import { EventConflictError } from '@app/event-store';
import { formatValidationErrors, requestFromProto, validateRecordRequest, type PaymentEventRecord } from '@app/payments';
import { InFlightLimiter } from '../../../admission/in-flight-limiter.js';
import { ProducerAuthenticator } from '../../../auth/producer-authenticator.js';
import { ConnectError } from '../../../connect/connect-error.js';
import type { Codec } from '../../../connect/unary-request.js';
import { CommandApiConfigRef } from '../../../infrastructure/config.provider.js';
import { CommandApiMetrics } from '../../../metrics/command-api.metrics.js';
import { RecordPaymentEventsCommand, type RecordPaymentEventsResult } from './record-payment-events.command.js';

/** One RecordPaymentEvents call as a protocol's framing hands it over. */
export interface RecordPaymentEventsCall {
  /** The framing's own checks of the request's headers, before anything else: the codec of the message, or a ConnectError. */
  accept(): Codec;
  /** `Authorization` (Connect's header, gRPC's metadata entry). */
  authorization: string | undefined;
  /** Recorded with every event the call stores. */
  requestId: string;
  /** The request message, unframed and inflated, refused past `maxBytes` or when not received within `deadlineMs` (a ConnectError). */
  readMessage(maxBytes: number, deadlineMs: number): Promise<Buffer>;
}

export type RecordPaymentEventsOutcome =
  | { ok: true; result: RecordPaymentEventsResult }
  | { ok: false; error: ConnectError };

/**
 * RecordPaymentEvents whatever the protocol: the Connect and gRPC endpoints
 * are framings over this. Order per call: the framing's header checks →
 * authentication → admission (one in-flight bound for every protocol) →
 * bounded message read → decode → validation → append. A call refused before
 * admission never holds a slot, and nothing is read of its body.
 */
@Injectable()
export class RecordPaymentEventsEndpoint {
  private readonly logger = new Logger('RecordPaymentEvents');

  constructor(
    private readonly commandBus: CommandBus,
    private readonly authenticator: ProducerAuthenticator,
    private readonly limiter: InFlightLimiter,
    private readonly metrics: CommandApiMetrics,
    private readonly config: CommandApiConfigRef,
  ) {}

  async record(call: RecordPaymentEventsCall): Promise<RecordPaymentEventsOutcome> {
    const stopTimer = this.metrics.requestDuration.startTimer();
    try {
      const outcome = await this.admitted(call);
      this.metrics.requests.inc({ code: outcome.ok ? 'ok' : outcome.error.code });
      return outcome;
    } finally {
      stopTimer();
    }
  }

  private async admitted(call: RecordPaymentEventsCall): Promise<RecordPaymentEventsOutcome> {
    let codec: Codec;
    let producer: ProducerApp;
    try {
      codec = call.accept();
      producer = await this.authenticator.authenticate(call.authorization);
    } catch (error) {
      return this.failed(error, call.requestId);
    }
    if (!this.limiter.tryAcquire()) {
      return { ok: false, error: new ConnectError('resource_exhausted', 'server overloaded: too many requests in flight; retry with backoff') };
    }
    this.metrics.inFlight.inc();
    try {
      const { maxBodyBytes, bodyTimeoutMs } = this.config.value;
      const events = this.validate(decode(codec, await call.readMessage(maxBodyBytes, bodyTimeoutMs)));
      const result: RecordPaymentEventsResult = await this.commandBus.execute(new RecordPaymentEventsCommand(events, producer, call.requestId));
      return { ok: true, result };
    } catch (error) {
      return this.failed(error, call.requestId);
    } finally {
      this.limiter.release();
      this.metrics.inFlight.dec();
    }
  }

  private validate(body: unknown): PaymentEventRecord[] {
    const result = validateRecordRequest(body, { now: new Date(), maxFutureSkewMs: this.config.value.maxFutureSkewMs });
    if (!result.ok) throw new ConnectError('invalid_argument', formatValidationErrors(result.errors));
    return result.events;
  }

  private failed(error: unknown, requestId: string): { ok: false; error: ConnectError } {
    if (error instanceof ConnectError) return { ok: false, error };
    if (error instanceof EventConflictError) return { ok: false, error: new ConnectError('already_exists', error.message) };
    if (error instanceof MerchantNotPermittedError) return { ok: false, error: new ConnectError('permission_denied', error.message) };
    this.logger.error(`RecordPaymentEvents failed (request ${requestId}): ${error instanceof Error ? error.stack : String(error)}`);
    const transient = error instanceof Error && /ECONNREFUSED|terminating connection|Connection terminated|timeout/i.test(error.message);
    return {
      ok: false,
      error: transient
        ? new ConnectError('unavailable', 'event store temporarily unavailable; retry with backoff')
        : new ConnectError('internal', 'internal error; nothing was stored'),
    };
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
