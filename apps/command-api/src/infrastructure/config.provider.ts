import type { CommandApiConfig } from '@app/config';

/** The validated configuration, injectable by class. */
export class CommandApiConfigRef {
  constructor(readonly value: CommandApiConfig) {}
}
