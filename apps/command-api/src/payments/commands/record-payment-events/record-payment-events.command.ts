import type { ProducerApp } from '@app/access';
import type { PaymentEventRecord } from '@app/payments';

/** Store a validated batch of payment events, atomically. */
export class RecordPaymentEventsCommand {
  constructor(readonly events: PaymentEventRecord[], readonly producer: ProducerApp) {}
}

export interface RecordPaymentEventsResult {
  accepted: number;
  duplicates: number;
}
