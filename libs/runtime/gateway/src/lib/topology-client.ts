import { ChannelCredentials, Client, credentials as grpcCredentials, Metadata, ServiceError } from '@grpc/grpc-js';
import { MethodDefinition } from '@grpc/proto-loader';
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
import { apiPackageDefinition, TOPOLOGY_SERVICE } from './api-proto';

export interface TopologyCallOptions {
  /** Milliseconds from now; the client's default when absent. */
  deadlineMs?: number;
}

/** A typed `topology.v1.TopologyService` client with promise methods. Errors are grpc-js `ServiceError`s. */
export interface TopologyClient {
  traverse(request: TraverseRequestMessage, options?: TopologyCallOptions): Promise<TraverseResponseMessage>;
  getNode(request: GetNodeRequestMessage, options?: TopologyCallOptions): Promise<GetNodeResponseMessage>;
  blastRadius(request: BlastRadiusRequestMessage, options?: TopologyCallOptions): Promise<BlastRadiusResponseMessage>;
  diagnose(request: DiagnoseRequestMessage, options?: TopologyCallOptions): Promise<DiagnoseResponseMessage>;
  coverage(request: CoverageRequestMessage, options?: TopologyCallOptions): Promise<CoverageResponseMessage>;
  traceOverlay(request: TraceOverlayRequestMessage, options?: TopologyCallOptions): Promise<TraceOverlayResponseMessage>;
  close(): void;
}

export interface TopologyClientOptions {
  /** Insecure (plaintext) by default. */
  credentials?: ChannelCredentials;
  /** Deadline of every call without its own, in milliseconds; default 10 000. */
  deadlineMs?: number;
}

type UnaryMethod = MethodDefinition<object, object>;
type MethodName = 'Traverse' | 'GetNode' | 'BlastRadius' | 'Diagnose' | 'Coverage' | 'TraceOverlay';

function method(name: MethodName): UnaryMethod {
  const service = apiPackageDefinition()[TOPOLOGY_SERVICE];
  const definition = service !== undefined && name in service ? (service as Record<string, unknown>)[name] : undefined;
  if (definition === undefined || typeof definition !== 'object' || definition === null || !('path' in definition)) {
    throw new Error(`${TOPOLOGY_SERVICE}/${name} is not in the API schema`);
  }
  return definition as UnaryMethod;
}

export function createTopologyClient(address: string, options: TopologyClientOptions = {}): TopologyClient {
  const client = new Client(address, options.credentials ?? grpcCredentials.createInsecure());
  const defaultDeadlineMs = options.deadlineMs ?? 10_000;

  function call<Req extends object, Res extends object>(name: MethodName) {
    const m = method(name);
    return (request: Req, callOptions: TopologyCallOptions = {}): Promise<Res> =>
      new Promise<Res>((resolve, reject) => {
        client.makeUnaryRequest<Req, Res>(
          m.path,
          (value) => m.requestSerialize(value),
          (bytes) => m.responseDeserialize(bytes) as Res,
          request,
          new Metadata(),
          { deadline: Date.now() + (callOptions.deadlineMs ?? defaultDeadlineMs) },
          (error: ServiceError | null, response?: Res) => (error ? reject(error) : response === undefined ? reject(new Error(`${name} returned nothing`)) : resolve(response)),
        );
      });
  }

  return {
    traverse: call<TraverseRequestMessage, TraverseResponseMessage>('Traverse'),
    getNode: call<GetNodeRequestMessage, GetNodeResponseMessage>('GetNode'),
    blastRadius: call<BlastRadiusRequestMessage, BlastRadiusResponseMessage>('BlastRadius'),
    diagnose: call<DiagnoseRequestMessage, DiagnoseResponseMessage>('Diagnose'),
    coverage: call<CoverageRequestMessage, CoverageResponseMessage>('Coverage'),
    traceOverlay: call<TraceOverlayRequestMessage, TraceOverlayResponseMessage>('TraceOverlay'),
    close: () => client.close(),
  };
}
