import * as grpc from '@grpc/grpc-js';
import { exportResponse, type OtlpSignal } from '@topology/ipc-ingest';
import type { OtlpIntake } from './otlp-receiver';

const identity = (b: Buffer): Buffer => b;
const toBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/**
 * The two OTLP export methods, with the message bytes passed through unparsed: the intake decodes
 * and checks them, and publishes the request bytes as they came.
 */
function exportService(service: string): grpc.ServiceDefinition {
  return {
    Export: {
      path: `/${service}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: toBuffer,
      responseDeserialize: identity,
      originalName: 'export',
    },
  };
}

export const OTLP_GRPC_SERVICES: Readonly<Record<OtlpSignal, string>> = {
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
};

export interface OtlpGrpcReceiverOptions {
  intake: OtlpIntake;
  /** `host:port`; port 0 picks a free one. */
  address: string;
  /** Largest accepted message, bytes (gzip-compressed messages are accepted and inflated by gRPC). */
  maxMessageBytes?: number;
}

/**
 * OTLP/gRPC receiver: `MetricsService/Export` and `TraceService/Export`. An unreadable request
 * fails with INVALID_ARGUMENT (not retried by exporters), a bus that cannot take it with
 * UNAVAILABLE (retried); a success answers an empty Export*ServiceResponse.
 */
export class OtlpGrpcReceiver {
  private constructor(
    private readonly server: grpc.Server,
    readonly address: string,
  ) {}

  static async start(options: OtlpGrpcReceiverOptions): Promise<OtlpGrpcReceiver> {
    const maxBytes = options.maxMessageBytes ?? 20 * 1024 * 1024;
    const server = new grpc.Server({ 'grpc.max_receive_message_length': maxBytes });
    for (const signal of ['metrics', 'traces'] as const) {
      server.addService(exportService(OTLP_GRPC_SERVICES[signal]), {
        export: (call: grpc.ServerUnaryCall<Buffer, Uint8Array>, callback: grpc.sendUnaryData<Uint8Array>) => {
          options.intake.export(signal, call.request, 'protobuf', 'grpc').then(
            (result) => {
              if (result.outcome === 'accepted') callback(null, exportResponse(signal, 'protobuf'));
              else callback({ code: result.outcome === 'invalid' ? grpc.status.INVALID_ARGUMENT : grpc.status.UNAVAILABLE, details: result.message });
            },
            (e: unknown) => callback({ code: grpc.status.INTERNAL, details: e instanceof Error ? e.message : String(e) }),
          );
        },
      });
    }
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(options.address, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
    });
    const host = options.address.slice(0, options.address.lastIndexOf(':')) || '0.0.0.0';
    return new OtlpGrpcReceiver(server, `${host}:${port}`);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
