// Three instrumented services in a process of their own, each with its own OpenTelemetry JS SDK
// tracer provider and OTLP protobuf trace exporter, serving `requests` requests and exporting the
// spans to the receiver at `url`. Trace context crosses services as it would in headers: the
// callee's span is started with the caller's span context as its remote parent.
// Peers that are not instrumented (a database, a Kafka topic, a feature-flag service) are named by
// the client span's attributes, in the current or the older semantic conventions (`names`).
// Usage: node otlp-sdk-traces.js '{"url": "...", "requests": 20, "names": "current" | "older"}'
'use strict';
const { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } = require('@opentelemetry/api');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');

const SERVICES = {
  frontend: { cluster: 'frontend-prod-v001', region: 'us-east-1' },
  checkout: { cluster: 'checkout-prod-v014', region: 'us-east-1' },
  payments: { cluster: 'payments-prod-v003', region: 'eu-west-1' },
};

function peerAttributes(names, peer) {
  const current = names === 'current';
  switch (peer.kind) {
    case 'service':
      return current ? { 'service.peer.name': peer.name, 'server.address': `${peer.name}.shop.svc` } : { 'peer.service': peer.name, 'net.peer.name': `${peer.name}.shop.svc` };
    case 'database':
      return current
        ? { 'db.system.name': 'postgresql', 'db.namespace': 'payments', 'server.address': peer.host }
        : { 'db.system': 'postgresql', 'db.name': 'payments', 'net.peer.name': peer.host };
    case 'messaging':
      return current
        ? { 'messaging.system': 'kafka', 'messaging.destination.name': peer.topic }
        : { 'messaging.system': 'kafka', 'messaging.destination': peer.topic };
    default:
      return {};
  }
}

async function main() {
  const { url, requests, names } = JSON.parse(process.argv[2]);
  const providers = {};
  const tracers = {};
  for (const [service, { cluster, region }] of Object.entries(SERVICES)) {
    providers[service] = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'k8s.deployment.name': cluster, 'cloud.region': region, 'service.instance.id': `${service}-0` }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { maxExportBatchSize: 64, scheduledDelayMillis: 60_000 })],
    });
    tracers[service] = providers[service].getTracer('shop');
  }
  const child = (parent) => trace.setSpan(ROOT_CONTEXT, parent);
  // What a callee sees: only the caller's span context, as propagated in headers.
  const remote = (caller) => trace.setSpanContext(ROOT_CONTEXT, caller.spanContext());
  const current = names === 'current';

  for (let i = 0; i < requests; i++) {
    const page = tracers.frontend.startSpan('GET /cart/checkout', { kind: SpanKind.SERVER, attributes: current ? { 'http.request.method': 'GET' } : { 'http.method': 'GET' } });

    const flags = tracers.frontend.startSpan('GET /flags', { kind: SpanKind.CLIENT, attributes: peerAttributes(names, { kind: 'service', name: 'flags' }) }, child(page));
    flags.end();

    const toCheckout = tracers.frontend.startSpan('POST /checkout', { kind: SpanKind.CLIENT, attributes: peerAttributes(names, { kind: 'service', name: 'checkout' }) }, child(page));
    const checkout = tracers.checkout.startSpan('POST /checkout', { kind: SpanKind.SERVER }, remote(toCheckout));
    const pricing = tracers.checkout.startSpan('price basket', { kind: SpanKind.INTERNAL }, child(checkout));
    pricing.end();

    const toPayments = tracers.checkout.startSpan('payments.v1.Payments/Charge', { kind: SpanKind.CLIENT, attributes: peerAttributes(names, { kind: 'service', name: 'payments' }) }, child(checkout));
    const charge = tracers.payments.startSpan('payments.v1.Payments/Charge', { kind: SpanKind.SERVER }, remote(toPayments));
    const query = tracers.payments.startSpan('INSERT payments', { kind: SpanKind.CLIENT, attributes: peerAttributes(names, { kind: 'database', host: 'payments-db.internal' }) }, child(charge));
    query.end();
    if (i % 5 === 0) {
      charge.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
      toPayments.setStatus({ code: SpanStatusCode.ERROR });
    }
    charge.end();
    toPayments.end();

    const publish = tracers.checkout.startSpan('orders publish', { kind: SpanKind.PRODUCER, attributes: peerAttributes(names, { kind: 'messaging', topic: 'orders' }) }, child(checkout));
    publish.end();

    checkout.end();
    toCheckout.end();
    page.end();
  }
  for (const provider of Object.values(providers)) {
    await provider.forceFlush();
    await provider.shutdown();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
