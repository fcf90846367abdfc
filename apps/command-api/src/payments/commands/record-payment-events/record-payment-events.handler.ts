import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { checkMerchantsPermitted } from '@app/access';
import { EventStore, type NewEvent } from '@app/event-store';
import type { PaymentEventRecord } from '@app/payments';
import { CommandApiMetrics } from '../../../metrics/command-api.metrics.js';
import { RecordPaymentEventsCommand, type RecordPaymentEventsResult } from './record-payment-events.command.js';

@CommandHandler(RecordPaymentEventsCommand)
export class RecordPaymentEventsHandler implements ICommandHandler<RecordPaymentEventsCommand, RecordPaymentEventsResult> {
  constructor(
    private readonly store: EventStore,
    private readonly metrics: CommandApiMetrics,
  ) {}

  async execute(command: RecordPaymentEventsCommand): Promise<RecordPaymentEventsResult> {
    // A request with any event for a merchant its app may not submit for is refused whole, before anything is stored.
    checkMerchantsPermitted(command.producer, command.events.map((e) => e.merchantId));
    const result = await this.store.append(command.events.map(toNewEvent), {
      producerAppId: command.producer.appId,
      requestId: command.requestId,
    });
    this.metrics.eventsAccepted.inc(result.accepted);
    this.metrics.eventsDuplicate.inc(result.duplicates);
    return { accepted: result.accepted, duplicates: result.duplicates };
  }
}

function toNewEvent(record: PaymentEventRecord): NewEvent {
  return {
    eventId: record.eventId,
    merchantId: record.merchantId,
    type: record.type,
    occurredAt: record.occurredAt,
    payloadJson: record.canonicalJson,
    bodyHash: record.bodyHash,
  };
}
