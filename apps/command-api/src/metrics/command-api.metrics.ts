import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RelayObserver } from '@app/messaging';

/** Prometheus metrics of the command API and its publication relay. */
@Injectable()
export class CommandApiMetrics implements RelayObserver {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'command_api_requests_total',
    help: 'RecordPaymentEvents requests by Connect result code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'command_api_request_duration_seconds',
    help: 'RecordPaymentEvents latency',
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'command_api_in_flight_requests',
    help: 'Requests being processed',
    registers: [this.registry],
  });
  readonly eventsAccepted = new Counter({
    name: 'events_accepted_total',
    help: 'Events stored',
    registers: [this.registry],
  });
  readonly eventsDuplicate = new Counter({
    name: 'events_duplicate_total',
    help: 'Events answered as duplicates of stored ones',
    registers: [this.registry],
  });
  readonly eventsPublished = new Counter({
    name: 'relay_events_published_total',
    help: 'Events published on JetStream by this process',
    registers: [this.registry],
  });
  readonly messagesPublished = new Counter({
    name: 'relay_messages_published_total',
    help: 'JetStream messages (event batches) published by this process',
    registers: [this.registry],
  });
  readonly publishFailures = new Counter({
    name: 'relay_publish_failures_total',
    help: 'Failed publication rounds, by partition',
    labelNames: ['partition'],
    registers: [this.registry],
  });
  readonly unpublished = new Gauge({
    name: 'relay_unpublished_events',
    help: 'Events stored but not yet published, by partition',
    labelNames: ['partition'],
    registers: [this.registry],
  });
  readonly natsConnected = new Gauge({
    name: 'nats_connected',
    help: '1 when connected to NATS with the PAYMENTS stream in place',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  published(_partition: number, events: number, messages: number): void {
    this.eventsPublished.inc(events);
    this.messagesPublished.inc(messages);
  }

  lag(partition: number, head: number, published: number): void {
    this.unpublished.set({ partition: String(partition) }, head - published);
  }

  failed(partition: number): void {
    this.publishFailures.inc({ partition: String(partition) });
  }
}
