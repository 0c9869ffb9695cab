import { Controller, Get, Inject, Module, Res, type DynamicModule } from '@nestjs/common';
import type { Response } from 'express';
import type { Registry } from 'prom-client';
import { LIVENESS, Liveness, METRICS_REGISTRY, READINESS, Readiness } from './tokens';

/** Probes and metrics of an app that takes no HTTP intake (the stage apps, the query gateway). */
@Controller()
export class OpsController {
  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(READINESS) private readonly readiness: Readiness,
    @Inject(LIVENESS) private readonly liveness: Liveness,
  ) {}

  @Get('healthz')
  live(@Res() res: Response): void {
    const broken = this.liveness.problems();
    if (broken.length === 0) res.status(200).json({ status: 'ok' });
    else res.status(503).json({ status: 'broken', problems: broken });
  }

  @Get('readyz')
  ready(@Res() res: Response): void {
    if (this.readiness.isReady()) res.status(200).json({ status: 'ready' });
    else res.status(503).json({ status: 'starting', waitingFor: this.readiness.notReady() });
  }

  @Get('metrics')
  async metrics(@Res() res: Response): Promise<void> {
    res.setHeader('content-type', this.registry.contentType);
    res.send(await this.registry.metrics());
  }
}

@Module({})
export class OpsHttpModule {
  static forRoot(options: { registry: Registry; readiness: Readiness; liveness: Liveness }): DynamicModule {
    return {
      module: OpsHttpModule,
      controllers: [OpsController],
      providers: [
        { provide: METRICS_REGISTRY, useValue: options.registry },
        { provide: READINESS, useValue: options.readiness },
        { provide: LIVENESS, useValue: options.liveness },
      ],
    };
  }
}
