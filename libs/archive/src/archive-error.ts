/**
 * A refusal or failure of an archive operation that the operator can act on:
 * the message names the directory, partition, file or position concerned.
 */
export class ArchiveError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ArchiveError';
  }
}
