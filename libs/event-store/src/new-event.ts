/** An event ready to append: validated, normalised, with its canonical JSON and body hash. */
export interface NewEvent {
  eventId: string;
  merchantId: string;
  /** Event type as stored, e.g. `payment_completed`. */
  type: string;
  /** RFC 3339 timestamp. */
  occurredAt: string;
  /** The event's canonical JSON, stored as its payload. */
  payloadJson: string;
  /** SHA-256 of the canonical JSON: equal hashes mean the same event. */
  bodyHash: Buffer;
}

/** Who stored a request's events: recorded on each of them. */
export interface AppendOrigin {
  /** The producer app whose key sent them. */
  producerAppId: string;
  /** The command API's id of the request (X-Request-Id), printable ASCII without tab or backslash. */
  requestId: string;
}

/** Events one append committed to one partition, for in-process consumers (the relay's fast path). */
export interface CommittedRun {
  partition: number;
  fromPosition: number;
  /** The transaction's recorded_at, RFC 3339 UTC with microseconds. */
  recordedAt: string;
  /** Stored payloads (JSON text), in position order from fromPosition. */
  payloads: string[];
}

export interface AppendResult {
  accepted: number;
  duplicates: number;
}

/** The same event id was stored earlier (or sent twice in one batch) with a different body. */
export class EventConflictError extends Error {
  constructor(readonly eventIds: string[]) {
    super(
      `event id${eventIds.length > 1 ? 's' : ''} ${eventIds.join(', ')} already stored with a different body`,
    );
    this.name = 'EventConflictError';
  }
}
