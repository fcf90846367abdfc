import type { ProducerApp } from '@app/access';
import type { PaymentEventRecord } from '@app/payments';

/** Store a validated batch of payment events, atomically, recording the app and the request that sent them. */
export class RecordPaymentEventsCommand {
  constructor(readonly events: PaymentEventRecord[], readonly producer: ProducerApp, readonly requestId: string) {}
}

export interface RecordPaymentEventsResult {
  accepted: number;
  duplicates: number;
}
