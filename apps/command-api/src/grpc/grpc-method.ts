import type { GrpcServerCall } from './grpc-call.js';

/** A unary method the gRPC listener routes to by its path (`/package.Service/Method`); it answers on the call. */
export interface GrpcMethod {
  readonly path: string;
  handle(call: GrpcServerCall): Promise<void>;
}
