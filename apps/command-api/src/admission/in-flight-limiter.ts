/**
 * Bounds the requests processed at once. Past the bound the API answers
 * resource_exhausted at once instead of queueing without limit: a producer
 * retries with backoff, and the requests already admitted keep their latency.
 */
export class InFlightLimiter {
  private inFlight = 0;

  constructor(readonly limit: number) {}

  tryAcquire(): boolean {
    if (this.inFlight >= this.limit) return false;
    this.inFlight++;
    return true;
  }

  release(): void {
    this.inFlight--;
  }

  get current(): number {
    return this.inFlight;
  }
}
