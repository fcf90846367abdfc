/** Connect protocol error codes and the HTTP status each maps to (connectrpc.com/docs/protocol). */
const HTTP_STATUS = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
} as const;

export type ConnectCode = keyof typeof HTTP_STATUS;

export interface ConnectErrorOptions {
  /** Where the protocol prescribes a status other than the code's own (415 for an unsupported codec). */
  httpStatus?: number;
  /** Response headers that tell the client what would have been accepted. */
  headers?: Readonly<Record<string, string>>;
}

export class ConnectError extends Error {
  constructor(readonly code: ConnectCode, message: string, private readonly options: ConnectErrorOptions = {}) {
    super(message);
    this.name = 'ConnectError';
  }

  get httpStatus(): number {
    return this.options.httpStatus ?? HTTP_STATUS[this.code];
  }

  get headers(): Readonly<Record<string, string>> {
    return this.options.headers ?? {};
  }

  toJSON(): { code: ConnectCode; message: string } {
    return { code: this.code, message: this.message };
  }
}
