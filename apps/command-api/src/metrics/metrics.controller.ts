import { Controller, Get, Header } from '@nestjs/common';
import { NatsConnector } from '@app/messaging';
import { CommandApiMetrics } from './command-api.metrics.js';

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: CommandApiMetrics, private readonly nats: NatsConnector) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    this.metrics.natsConnected.set(this.nats.connected ? 1 : 0);
    return this.metrics.registry.metrics();
  }
}
