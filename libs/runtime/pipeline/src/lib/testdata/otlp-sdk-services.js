// Instrumented services in a process of their own: each runs the OpenTelemetry JS SDK with the OTLP
// protobuf metric exporter, records the call durations of a traffic description with the attribute
// names of one generation of the semantic conventions, and exports them to the receiver at `url`.
// Usage: node otlp-sdk-services.js '{"url": "...", "names": "current" | "older", "traffic": [...]}'
'use strict';
const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-proto');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');

const GRPC_CODES = { OK: 0, DEADLINE_EXCEEDED: 4, UNAVAILABLE: 14 };
const BOUNDS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

function attributes(c, side, failed, names) {
  const current = names === 'current';
  const a = {};
  if (c.protocol === 'grpc') {
    const status = failed ? c.failure : 'OK';
    if (current) Object.assign(a, { 'rpc.system.name': 'grpc', 'rpc.method': c.endpoint, 'rpc.status_code': status }, failed ? { 'error.type': status } : {});
    else Object.assign(a, { 'rpc.system': 'grpc', 'rpc.service': c.endpoint.split('/')[0], 'rpc.method': c.endpoint.split('/')[1], 'rpc.grpc.status_code': GRPC_CODES[status] });
  } else {
    const code = failed ? Number(c.failure) : 200;
    if (current) Object.assign(a, { 'http.request.method': c.endpoint, 'http.response.status_code': code }, failed ? { 'error.type': String(code) } : {});
    else Object.assign(a, { 'http.method': c.endpoint, 'http.status_code': code });
  }
  if (side === 'client') {
    // Current instrumentation names the server by the host it dialled; older code also by peer.service.
    if (current) Object.assign(a, { 'server.address': `${c.server}.shop.svc.cluster.local`, 'server.port': c.protocol === 'grpc' ? 50051 : 8080 });
    else Object.assign(a, { 'peer.service': c.server, 'net.peer.name': `${c.server}.shop.svc.cluster.local` });
  } else if (c.serverNamesCaller) {
    a[current ? 'service.peer.name' : 'peer.service'] = c.client;
  }
  return a;
}

function metricName(c, side, names) {
  if (names === 'current') return c.protocol === 'grpc' ? `rpc.${side}.call.duration` : `http.${side}.request.duration`;
  return c.protocol === 'grpc' ? `rpc.${side}.duration` : `http.${side}.duration`;
}

async function main() {
  const { url, names, traffic } = JSON.parse(process.argv[2]);
  const services = [...new Set(traffic.flatMap((c) => [c.client, c.server]))];
  const scale = names === 'current' ? 1 : 1000;
  for (const service of services) {
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.instance.id': `${service}-0` }),
      readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url }), exportIntervalMillis: 3600000 })],
    });
    const meter = provider.getMeter('shop-instrumentation');
    const histograms = new Map();
    for (const c of traffic) {
      for (const side of ['client', 'server']) {
        if ((side === 'client' ? c.client : c.server) !== service) continue;
        const name = metricName(c, side, names);
        if (!histograms.has(name)) {
          histograms.set(name, meter.createHistogram(name, { unit: names === 'current' ? 's' : 'ms', advice: { explicitBucketBoundaries: BOUNDS_S.map((b) => b * scale) } }));
        }
        const h = histograms.get(name);
        for (let i = 0; i < c.ok; i++) h.record(c.seconds * scale, attributes(c, side, false, names));
        for (let i = 0; i < c.failed; i++) h.record(c.seconds * scale, attributes(c, side, true, names));
      }
    }
    await provider.forceFlush();
    await provider.shutdown();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
