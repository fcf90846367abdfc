import { merchantMetricsProjection } from '@app/merchant-metrics';
import { merchantPaymentsProjection } from '@app/merchant-payments';
import { ProjectionCatalog } from '@app/projections';

/**
 * Every projection this code has: what the projector runs and the ops CLI
 * manages. The one place that names them; the machinery (libs/projections)
 * knows none.
 */
export const projectionCatalog = new ProjectionCatalog([merchantMetricsProjection, merchantPaymentsProjection]);
