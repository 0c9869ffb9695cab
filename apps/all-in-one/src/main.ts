import 'reflect-metadata';
import { ConfigError, loadAllInOneConfig } from '@topology/runtime-pipeline';
import { AllInOne } from './lib/all-in-one';

/** `npm start`: the whole platform in one process, with embedded stores and (by default) a simulated fleet. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadAllInOneConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const app = await AllInOne.start(config);
  console.log(
    [
      'service topology all-in-one is running',
      `  gRPC API      ${app.grpcAddress}   (grpcurl -plaintext localhost:${app.grpcAddress.split(':').pop()} list)`,
      `  HTTP intake   http://${app.httpAddress}/v1/flows  /v1/metadata  /v1/ipc   metrics /metrics   probes /healthz /readyz`,
      `  OTLP          http://${app.application.otlpHttp.address} (/v1/metrics, /v1/traces)   gRPC ${app.application.otlpGrpc.address}`,
      `  Zipkin        http://${app.request.zipkin.address}/api/v2/spans`,
      `  data          ${config.dataDir}`,
      config.simulate ? `  simulated fleet: ${config.simulationApps} apps, seed ${config.simulationSeed} (TOPOLOGY_SIMULATE=false to turn it off)` : '  simulated fleet: off',
      '  try: npm run cli -- deps app:apigateway --up     npm run cli -- coverage     npm run cli -- diagnose <app>',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: draining the pipeline and closing the stores`);
    app.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
