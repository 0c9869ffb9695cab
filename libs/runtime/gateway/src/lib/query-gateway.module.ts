import { DynamicModule, InjectionToken, Module, ModuleMetadata, Provider } from '@nestjs/common';
import { TopologyQueryService } from '@topology/query';
import { CALL_DEADLINE_MS, TOPOLOGY_QUERY_SERVICE, TopologyGrpcController } from './topology-grpc.controller';

/** Time a call may run beyond the service's layer timeout (merging, mapping, encoding), in milliseconds. */
export const DEFAULT_DEADLINE_MARGIN_MS = 1000;

interface GuardOptions {
  /** Added to the service's `layerTimeoutMs` to make the per-call deadline; default `DEFAULT_DEADLINE_MARGIN_MS`. */
  deadlineMarginMs?: number;
}

export type QueryGatewayModuleOptions = GuardOptions &
  (
    | { service: TopologyQueryService }
    | {
        useFactory: (...deps: never[]) => TopologyQueryService | Promise<TopologyQueryService>;
        inject?: InjectionToken[];
        imports?: ModuleMetadata['imports'];
      }
  );

/** The gRPC controller of `topology.v1.TopologyService`, bound to one query service. */
@Module({})
export class QueryGatewayModule {
  static forRoot(options: QueryGatewayModuleOptions): DynamicModule {
    const margin = options.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS;
    if (!Number.isSafeInteger(margin) || margin < 0) throw new Error(`deadlineMarginMs must be a non-negative integer, got ${margin}`);
    const serviceProvider: Provider =
      'service' in options
        ? { provide: TOPOLOGY_QUERY_SERVICE, useValue: options.service }
        : { provide: TOPOLOGY_QUERY_SERVICE, useFactory: options.useFactory, inject: options.inject ?? [] };
    return {
      module: QueryGatewayModule,
      imports: 'service' in options ? [] : (options.imports ?? []),
      controllers: [TopologyGrpcController],
      providers: [
        serviceProvider,
        {
          provide: CALL_DEADLINE_MS,
          useFactory: (service: TopologyQueryService) => service.config.layerTimeoutMs + margin,
          inject: [TOPOLOGY_QUERY_SERVICE],
        },
      ],
      exports: [TOPOLOGY_QUERY_SERVICE],
    };
  }
}
