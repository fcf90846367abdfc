import type { QueryApiConfig } from '@app/config';

/** The validated configuration, injectable by class. */
export class QueryApiConfigRef {
  constructor(readonly value: QueryApiConfig) {}
}
