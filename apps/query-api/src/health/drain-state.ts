import type { BeforeApplicationShutdown } from '@nestjs/common';

/**
 * Set when shutdown begins, before the HTTP server stops: readiness turns 503
 * and every response from then on carries `Connection: close`, so keep-alive
 * clients move to another instance instead of holding this one open.
 */
export class DrainState implements BeforeApplicationShutdown {
  draining = false;

  beforeApplicationShutdown(): void {
    this.draining = true;
  }
}
