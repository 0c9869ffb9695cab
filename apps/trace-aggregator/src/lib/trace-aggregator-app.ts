import { ChdbExecutor, ClickHouseRequestStore, ServerExecutor, redactedUrl, type ClickHouseExecutor } from '@topology/clickhouse-store';
import { StageAppHost, TraceAggregateStage, exportCounterSet, requestStoreConfig, traceAggregatorConfig, type RunningApp } from '@topology/runtime-pipeline';
import { requestDataDir, type TraceAggregatorAppConfig } from './trace-aggregator.config';

export interface TraceAggregatorApp extends RunningApp {
  host: StageAppHost;
}

/**
 * The trace-aggregator as its own process: `otlp_spans` and `spans.zipkin.v1` in, the request
 * layer (edge totals per bucket, nodes, span index) written to ClickHouse: a server when
 * `TOPOLOGY_CLICKHOUSE_URL` names one, else the embedded engine in `<TOPOLOGY_DATA_DIR>/request`.
 */
export async function startTraceAggregator(config: TraceAggregatorAppConfig, log?: (message: string) => void): Promise<TraceAggregatorApp> {
  const { clickhouseUrl, clickhouseDatabase } = config.request;
  const executor: ClickHouseExecutor =
    clickhouseUrl === undefined ? new ChdbExecutor(requestDataDir(config)) : new ServerExecutor({ url: clickhouseUrl, ...(clickhouseDatabase === undefined ? {} : { database: clickhouseDatabase }) });
  let store: ClickHouseRequestStore;
  try {
    store = await ClickHouseRequestStore.open(executor, {
      ...requestStoreConfig(config.request, { bucketMs: config.network.bucketMs, retentionMs: config.retentionMs }),
      // This process only writes: it keeps no history for reads and reads no other writer's rows.
      memoryHorizonMs: config.network.bucketMs,
      refreshIntervalMs: 0,
    });
  } catch (e) {
    await executor.close();
    throw e;
  }
  const opened = store;
  try {
    const host = await StageAppHost.start(
      config,
      async (ctx) => {
        exportCounterSet(ctx.registry, 'topology_request_store', opened.counters);
        return {
          // One writer id per consumer group: whoever reads a partition next rewrites its totals whole.
          runner: new TraceAggregateStage({ ...ctx.runnerOptions, store: opened, writerId: config.groupId, aggregator: traceAggregatorConfig(config.request, config.network.bucketMs) }),
          close: () => opened.close(),
        };
      },
      log,
    );
    return {
      host,
      banner: () => [
        `trace-aggregator ${config.instanceId} is running`,
        `  cluster ${config.brokers.join(',')}, group ${config.groupId}, topics ${config.topics.otlpSpans} ${config.topics.spansZipkin}`,
        clickhouseUrl === undefined
          ? `  request store: embedded ClickHouse (chdb) in ${requestDataDir(config)}`
          : `  request store: ClickHouse server ${redactedUrl(clickhouseUrl)}${clickhouseDatabase === undefined ? '' : `, database ${clickhouseDatabase}`}`,
        `  traces paired after ${config.request.traceIdleMs} ms without a span (at most ${config.request.maxTraceLifeMs} ms)`,
        `  probes and metrics http://${host.httpAddress}/readyz /healthz /metrics`,
      ],
      stop: () => host.stop(),
    };
  } catch (e) {
    await opened.close();
    throw e;
  }
}
