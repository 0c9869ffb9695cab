import { Controller, Inject, Logger } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { QueryError, TopologyQueryService } from '@topology/query';
import {
  BlastRadiusRequestMessage,
  BlastRadiusResponseMessage,
  CoverageRequestMessage,
  CoverageResponseMessage,
  DiagnoseRequestMessage,
  DiagnoseResponseMessage,
  GetNodeRequestMessage,
  GetNodeResponseMessage,
  TraceOverlayRequestMessage,
  TraceOverlayResponseMessage,
  TraverseRequestMessage,
  TraverseResponseMessage,
} from './api-messages';
import {
  blastRadiusRequestOf,
  blastRadiusResponseMessage,
  coverageRequestOf,
  coverageResponseMessage,
  diagnoseRequestOf,
  diagnoseResponseMessage,
  getNodeRequestOf,
  getNodeResponseMessage,
  traceOverlayRequestOf,
  traceOverlayResponseMessage,
  traverseRequestOf,
  traverseResponseMessage,
} from './api-mapping';
import { grpcStatusOf } from './grpc-status';

export const TOPOLOGY_QUERY_SERVICE = Symbol('TopologyQueryService');
/** Milliseconds a call may take before the gateway answers DEADLINE_EXCEEDED itself. */
export const CALL_DEADLINE_MS = Symbol('CallDeadlineMs');

/** `topology.v1.TopologyService` over the query service: maps messages, errors and the call deadline. */
@Controller()
export class TopologyGrpcController {
  private readonly logger = new Logger(TopologyGrpcController.name);

  constructor(
    @Inject(TOPOLOGY_QUERY_SERVICE) private readonly service: TopologyQueryService,
    @Inject(CALL_DEADLINE_MS) private readonly callDeadlineMs: number,
  ) {}

  @GrpcMethod('TopologyService', 'Traverse')
  traverse(request: TraverseRequestMessage): Promise<TraverseResponseMessage> {
    return this.answer('Traverse', async () => traverseResponseMessage(await this.service.traverse(traverseRequestOf(request))));
  }

  @GrpcMethod('TopologyService', 'GetNode')
  getNode(request: GetNodeRequestMessage): Promise<GetNodeResponseMessage> {
    return this.answer('GetNode', async () => getNodeResponseMessage(await this.service.getNode(getNodeRequestOf(request))));
  }

  @GrpcMethod('TopologyService', 'BlastRadius')
  blastRadius(request: BlastRadiusRequestMessage): Promise<BlastRadiusResponseMessage> {
    return this.answer('BlastRadius', async () => blastRadiusResponseMessage(await this.service.blastRadius(blastRadiusRequestOf(request))));
  }

  @GrpcMethod('TopologyService', 'Diagnose')
  diagnose(request: DiagnoseRequestMessage): Promise<DiagnoseResponseMessage> {
    return this.answer('Diagnose', async () => diagnoseResponseMessage(await this.service.diagnose(diagnoseRequestOf(request))));
  }

  @GrpcMethod('TopologyService', 'Coverage')
  coverage(request: CoverageRequestMessage): Promise<CoverageResponseMessage> {
    return this.answer('Coverage', async () => coverageResponseMessage(await this.service.coverage(coverageRequestOf(request))));
  }

  @GrpcMethod('TopologyService', 'TraceOverlay')
  traceOverlay(request: TraceOverlayRequestMessage): Promise<TraceOverlayResponseMessage> {
    return this.answer('TraceOverlay', async () => traceOverlayResponseMessage(await this.service.traceOverlay(traceOverlayRequestOf(request))));
  }

  private async answer<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      return await this.withinDeadline(method, run);
    } catch (error) {
      const failure = error instanceof QueryError ? error : new QueryError('internal', `${method} failed`, { cause: error });
      if (failure.code === 'internal') this.logger.error(`${method}: ${describe(failure.cause ?? failure)}`);
      throw new RpcException({ code: grpcStatusOf(failure.code), message: failure.message });
    }
  }

  /** Layer reads are bounded by the service's layer timeout; this bounds everything else in the call. */
  private withinDeadline<T>(method: string, run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new QueryError('deadline-exceeded', `${method} did not finish within ${this.callDeadlineMs} ms`)), this.callDeadlineMs);
      run().then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
