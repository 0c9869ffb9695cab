import { Module, type DynamicModule } from '@nestjs/common';
import type { Bus } from '@topology/bus';
import type { Registry } from 'prom-client';
import { HttpController } from './http.controller';
import { BUS, METRICS_REGISTRY, READINESS, Readiness } from './tokens';

/** The HTTP side of an app: probes, Prometheus metrics, and flow/metadata intake onto the bus. */
@Module({})
export class HttpIntakeModule {
  static forRoot(options: { bus: Bus; registry: Registry; readiness?: Readiness }): DynamicModule {
    return {
      module: HttpIntakeModule,
      controllers: [HttpController],
      providers: [
        { provide: BUS, useValue: options.bus },
        { provide: METRICS_REGISTRY, useValue: options.registry },
        { provide: READINESS, useValue: options.readiness ?? new Readiness() },
      ],
    };
  }
}
