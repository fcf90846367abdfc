/**
 * All that /health/live and /health/ready say on an app's own port, which
 * load balancers reach and so may anyone who reaches them: a status, no
 * versions, lags, errors or counts (those are on the admin port's /health/details).
 */
export const HEALTH_OK = Object.freeze({ status: 'ok' });
export const HEALTH_UNAVAILABLE = Object.freeze({ status: 'unavailable' });

/** The status code and body of /health/ready. */
export function readinessAnswer(ready: boolean): { code: 200 | 503; body: { status: string } } {
  return ready ? { code: 200, body: HEALTH_OK } : { code: 503, body: HEALTH_UNAVAILABLE };
}
