import { Controller, Get, Header } from '@nestjs/common';
import { QueryApiMetrics } from './query-api.metrics.js';

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: QueryApiMetrics) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
