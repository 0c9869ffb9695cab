import { status } from '@grpc/grpc-js';
import { Test } from '@nestjs/testing';
import { RpcException } from '@nestjs/microservices';
import { nodeId, NodeRecord } from '@topology/model';
import { InMemoryLayerReader, QUERY_ERROR_CODES, TopologyQueryService } from '@topology/query';
import { grpcStatusOf } from './grpc-status';
import { QueryGatewayModule } from './query-gateway.module';
import { TopologyGrpcController } from './topology-grpc.controller';

describe('query errors as gRPC status codes', () => {
  it('gives every query error code its own status, none of them OK or UNKNOWN', () => {
    const codes = QUERY_ERROR_CODES.map(grpcStatusOf);
    expect(new Set(codes).size).toBe(QUERY_ERROR_CODES.length);
    expect(codes).not.toContain(status.OK);
    expect(codes).not.toContain(status.UNKNOWN);
    expect(grpcStatusOf('invalid-argument')).toBe(status.INVALID_ARGUMENT);
    expect(grpcStatusOf('not-found')).toBe(status.NOT_FOUND);
  });
});

describe('the gateway module built from a factory', () => {
  const STORE = Symbol('store');
  const web: NodeRecord = { id: nodeId('app', 'web'), kind: 'app', displayName: 'web', health: 'healthy', firstSeenMs: 1, lastSeenMs: 2 };

  async function controller(): Promise<TopologyGrpcController> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        QueryGatewayModule.forRoot({
          useFactory: (store: InMemoryLayerReader) => new TopologyQueryService([{ layer: 'network', reader: store }], { maxDepth: 2 }),
          inject: [STORE],
          imports: [{ module: class StoreModule {}, providers: [{ provide: STORE, useValue: new InMemoryLayerReader('network', [web], []) }], exports: [STORE], global: false }],
        }),
      ],
    }).compile();
    return moduleRef.get(TopologyGrpcController);
  }

  it('answers through the injected service', async () => {
    const answer = await (await controller()).traverse({ roots: ['web'], range: { fromMs: 1, toMs: 10 } });
    expect(answer.nodes.map((n) => n.id)).toEqual(['app:web']);
  });

  it('throws an RpcException carrying the gRPC status and the domain message', async () => {
    const error = await (await controller()).traverse({ roots: ['web'], depth: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcException);
    expect((error as RpcException).getError()).toEqual({ code: status.INVALID_ARGUMENT, message: 'depth 3 exceeds the maximum of 2' });
  });
});
