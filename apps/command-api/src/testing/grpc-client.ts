import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_ROOT = fileURLToPath(new URL('../../../../proto', import.meta.url));

/** The repository's proto as @grpc/proto-loader reads it, as a Node producer would load it. */
const definition = protoLoader.loadSync('payments/v1/payment_events.proto', {
  includeDirs: [PROTO_ROOT],
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  payments: { v1: { PaymentEventService: grpc.ServiceClientConstructor } };
};

export type PaymentEventsGrpcClient = grpc.Client & {
  recordPaymentEvents(
    request: unknown,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { accepted: number; duplicates: number }) => void,
  ): grpc.ClientUnaryCall;
};

/** A standard @grpc/grpc-js client of PaymentEventService; cleartext unless `credentials` say otherwise. */
export function paymentEventsGrpcClient(
  target: string,
  options: { credentials?: grpc.ChannelCredentials; channel?: grpc.ChannelOptions } = {},
): PaymentEventsGrpcClient {
  const Client = loaded.payments.v1.PaymentEventService;
  return new Client(target, options.credentials ?? grpc.credentials.createInsecure(), options.channel) as unknown as PaymentEventsGrpcClient;
}

/** A JSON-shaped event (as testing/payment-events.ts makes them) as proto-loader's object for the same message. */
export function grpcEvent(event: Record<string, unknown>): Record<string, unknown> {
  const { occurredAt, ...rest } = event as { occurredAt?: string };
  if (occurredAt === undefined) return rest;
  const ms = Date.parse(occurredAt);
  const nanos = (((ms % 1000) + 1000) % 1000) * 1_000_000;
  // protobufjs writes a zero it is given (proto3 leaves defaults out): leave it out, as other encoders do.
  return { ...rest, occurredAt: { seconds: String(Math.floor(ms / 1000)), ...(nanos === 0 ? {} : { nanos }) } };
}

export interface GrpcAnswer {
  response?: { accepted: number; duplicates: number };
  error?: { code: number; details: string };
  /** X-Request-Id of the response headers (success only: an error comes in trailers). */
  requestId?: string;
}

/** Calls RecordPaymentEvents with `key` (null: no authorization metadata) and answers what the client got. */
export function recordOverGrpc(
  client: PaymentEventsGrpcClient,
  events: Array<Record<string, unknown>>,
  options: { key: string | null; requestId?: string; deadlineMs?: number },
): Promise<GrpcAnswer> {
  const metadata = new grpc.Metadata();
  if (options.key !== null) metadata.set('authorization', `Bearer ${options.key}`);
  if (options.requestId !== undefined) metadata.set('x-request-id', options.requestId);
  const callOptions: grpc.CallOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  return new Promise((resolve) => {
    let requestId: string | undefined;
    const call = client.recordPaymentEvents({ events: events.map(grpcEvent) }, metadata, callOptions, (error, response) => {
      resolve(error ? { error: { code: error.code, details: error.details } } : { response: { accepted: response!.accepted, duplicates: response!.duplicates }, requestId });
    });
    call.on('metadata', (headers: grpc.Metadata) => {
      requestId = headers.get('x-request-id')[0] as string | undefined;
    });
  });
}

export { grpc };
