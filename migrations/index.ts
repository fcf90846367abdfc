import type { Migration } from 'kysely';
import * as eventStore from './2026-11-21T00-00-event-store.js';
import * as appendFunctions from './2026-11-21T00-01-append-functions.js';
import * as projectionRegistry from './2026-11-21T01-00-projection-registry.js';
import * as analytics from './2026-11-21T02-00-analytics.js';
import * as rollupWatermark from './2026-11-21T03-00-rollup-watermark.js';
import * as analystDefaultPrivileges from './2026-11-21T04-00-analyst-default-privileges.js';
import * as analyticsSketches from './2026-12-01T00-00-analytics-sketches.js';
import * as producerRevocationNotify from './2026-12-02T00-00-producer-revocation-notify.js';
import * as leastPrivilege from './2026-12-02T01-00-least-privilege.js';
import * as producerAppOnEvents from './2026-12-02T02-00-producer-app-on-events.js';
import * as tokenRevocations from './2026-12-02T03-00-token-revocations.js';
import * as merchantWatermarks from './2026-12-02T04-00-merchant-watermarks.js';
import * as projectionViews from './2026-12-03T00-00-projection-views.js';
import * as eventArchive from './2026-12-03T01-00-event-archive.js';
import * as paymentSearch from './2026-12-03T02-00-payment-search.js';

/** Every migration, by name; names sort in the order they apply. */
export const migrations: Record<string, Migration> = {
  '2026-11-21T00-00-event-store': eventStore,
  '2026-11-21T00-01-append-functions': appendFunctions,
  '2026-11-21T01-00-projection-registry': projectionRegistry,
  '2026-11-21T02-00-analytics': analytics,
  '2026-11-21T03-00-rollup-watermark': rollupWatermark,
  '2026-11-21T04-00-analyst-default-privileges': analystDefaultPrivileges,
  '2026-12-01T00-00-analytics-sketches': analyticsSketches,
  '2026-12-02T00-00-producer-revocation-notify': producerRevocationNotify,
  '2026-12-02T01-00-least-privilege': leastPrivilege,
  '2026-12-02T02-00-producer-app-on-events': producerAppOnEvents,
  '2026-12-02T03-00-token-revocations': tokenRevocations,
  '2026-12-02T04-00-merchant-watermarks': merchantWatermarks,
  '2026-12-03T00-00-projection-views': projectionViews,
  '2026-12-03T01-00-event-archive': eventArchive,
  '2026-12-03T02-00-payment-search': paymentSearch,
};
