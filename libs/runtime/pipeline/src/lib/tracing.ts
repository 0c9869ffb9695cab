import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export interface TracingConfig {
  /** Export the app's own spans (batch handling, flushes, gRPC calls' work) over OTLP. Off by default. */
  enabled: boolean;
  /** `service.name` of the spans. */
  serviceName: string;
  /** `service.instance.id` of the spans. */
  instanceId: string;
}

export interface Tracing {
  /** Exports what is buffered and stops; resolves even when the collector is unreachable. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK for the app's own tracing when enabled, exporting OTLP/protobuf
 * over HTTP to `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` (default
 * http://localhost:4318). The stage runner and the gateway create spans through
 * `@opentelemetry/api`, which costs next to nothing while no SDK is started.
 */
export function startTracing(config: TracingConfig): Tracing {
  if (!config.enabled) return { shutdown: async () => undefined };
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName, 'service.instance.id': config.instanceId }),
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [],
  });
  sdk.start();
  return {
    shutdown: async () => {
      await sdk.shutdown().catch(() => undefined);
    },
  };
}
