import 'reflect-metadata';
import * as path from 'path';
import * as net from 'net';
import type { Server } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { INestMicroservice, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { TopologyQueryService } from '@topology/query';
import { apiPackageDefinition, TOPOLOGY_PACKAGE, TOPOLOGY_SERVICE } from './api-proto';
import type { TraverseResponseMessage } from './api-messages';
import { QueryGatewayModule } from './query-gateway.module';
import { TraverseResponseEncoder } from './traverse-response-encoder';

export interface GatewayMicroserviceOptions {
  /** `host:port` to listen on, e.g. `0.0.0.0:50051`; port 0 picks a free port. */
  url: string;
  service: TopologyQueryService;
  /** Added to the service's layer timeout to make the per-call deadline, in milliseconds. */
  deadlineMarginMs?: number;
  /** Nest's logger or the levels to log; errors and warnings by default. */
  logger?: LoggerService | LogLevel[] | false;
}

export interface GatewayMicroservice {
  app: INestMicroservice;
  /** `host:port` the server listens on, with the port it actually got. */
  address: string;
  port: number;
  /** Reports NOT_SERVING to health checks, then stops the server. */
  close(): Promise<void>;
}

/**
 * Starts the query gateway: `topology.v1.TopologyService` on a Nest gRPC microservice, plus the
 * standard gRPC health service (SERVING for '' and the topology service, so Kubernetes gRPC probes
 * work) and server reflection (so `grpcurl -plaintext host:port list` works).
 */
export async function createGatewayMicroservice(options: GatewayMicroserviceOptions): Promise<GatewayMicroservice> {
  const { host, port } = await resolveListenAddress(options.url);
  const address = `${host}:${port}`;
  const health = new HealthImplementation({ '': 'SERVING', [TOPOLOGY_SERVICE]: 'SERVING' });
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(
    QueryGatewayModule.forRoot({ service: options.service, ...(options.deadlineMarginMs === undefined ? {} : { deadlineMarginMs: options.deadlineMarginMs }) }),
    {
      transport: Transport.GRPC,
      logger: options.logger ?? ['error', 'warn'],
      options: {
        url: address,
        package: TOPOLOGY_PACKAGE,
        packageDefinition: servedPackageDefinition(),
        onLoadPackageDefinition: (pkg: protoLoader.PackageDefinition, server: Pick<Server, 'addService'>) => {
          health.addToServer(server);
          new ReflectionService({ ...pkg, ...healthPackageDefinition() }).addToServer(server);
        },
      },
    },
  );
  await app.listen();
  return {
    app,
    address,
    port,
    close: async () => {
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(TOPOLOGY_SERVICE, 'NOT_SERVING');
      await app.close();
    },
  };
}

/**
 * The API as the server serves it: proto-loader's definitions, with Traverse answers encoded by
 * `TraverseResponseEncoder` (the same bytes, faster for wide answers). A copy of the process's one
 * definition: clients in the same process keep proto-loader's own serializer.
 */
function servedPackageDefinition(): protoLoader.PackageDefinition {
  const loaded = apiPackageDefinition();
  const service = loaded[TOPOLOGY_SERVICE] as protoLoader.ServiceDefinition | undefined;
  const traverse = service?.['Traverse'];
  if (service === undefined || traverse === undefined) throw new Error(`${TOPOLOGY_SERVICE}/Traverse is not in the API schema`);
  const encoder = new TraverseResponseEncoder();
  const served: protoLoader.ServiceDefinition = { ...service, Traverse: { ...traverse, responseSerialize: (message: object) => encoder.encode(message as TraverseResponseMessage) } };
  return { ...loaded, [TOPOLOGY_SERVICE]: served };
}

/** The health service's own schema, so reflection can describe it to grpcurl too. */
function healthPackageDefinition(): protoLoader.PackageDefinition {
  const includeDir = path.resolve(path.dirname(healthProtoPath), '..', '..');
  return protoLoader.loadSync(path.relative(includeDir, healthProtoPath), { includeDirs: [includeDir] });
}

/**
 * Nest's gRPC transport does not report the port it bound, so port 0 is resolved here first by
 * asking the OS for a free one (a port taken in between makes `listen` fail loudly, not silently).
 */
async function resolveListenAddress(url: string): Promise<{ host: string; port: number }> {
  const colon = url.lastIndexOf(':');
  const host = colon > 0 ? url.slice(0, colon) : '';
  const port = Number(url.slice(colon + 1));
  if (host === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`gateway url must be host:port, got ${JSON.stringify(url)}`);
  if (port !== 0) return { host, port };
  const probeHost = host.startsWith('[') ? host.slice(1, -1) : host;
  const free = await new Promise<number>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: probeHost, port: 0 }, () => {
      const bound = probe.address();
      probe.close(() => (bound !== null && typeof bound === 'object' ? resolve(bound.port) : reject(new Error(`no free port on ${host}`))));
    });
  });
  return { host, port: free };
}
