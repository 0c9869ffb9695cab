import { KafkaBus } from '@topology/bus-kafka';
import {
  FlowIngestStage,
  KafkaStageInput,
  StageAppHost,
  ensureTopicsPatiently,
  flowInputTopicSpecs,
  kafkaClientConfig,
  networkStageConfigs,
  type FlowRegion,
  type RunningApp,
} from '@topology/runtime-pipeline';
import type { FlowIngestorAppConfig } from './flow-ingestor.config';

export interface FlowIngestorApp extends RunningApp {
  host: StageAppHost;
}

/**
 * Stage 1 as its own process: flow records from one Kafka cluster per region, partial aggregates
 * and learned ownership to the pipeline cluster. The region whose brokers are the pipeline
 * cluster's reads through the host's input; every other region has an input of its own.
 */
export async function startFlowIngestor(config: FlowIngestorAppConfig, log?: (message: string) => void): Promise<FlowIngestorApp> {
  const host = await StageAppHost.start(
    config,
    async (ctx) => {
      const regions: FlowRegion[] = [];
      const own: KafkaStageInput[] = [];
      for (const { region, brokers } of config.regions) {
        const client = kafkaClientConfig(config, brokers, `-${region}`);
        // Exporters may not have written yet: create the input topics so the group can join.
        const admin = new KafkaBus(client);
        try {
          await ensureTopicsPatiently(admin, flowInputTopicSpecs(config.topics, config.partitions), ctx.log);
        } finally {
          await admin.close();
        }
        if (sameCluster(brokers, config.brokers)) {
          regions.push({ region, input: ctx.input });
          continue;
        }
        const input = new KafkaStageInput({ kafka: client, name: region, onFatal: (e) => ctx.liveness.fail(`kafka ${region}`, e.message) });
        own.push(input);
        await input.waitForTopics(flowInputTopicSpecs(config.topics, config.partitions).map((s) => s.topic));
        regions.push({ region, input });
      }
      const stages = networkStageConfigs(config.network);
      const first = config.regions[0];
      const runner = new FlowIngestStage({ ...ctx.runnerOptions, region: first === undefined ? 'local' : first.region, ingestor: stages.ingestor, regions });
      return { runner, inputs: own };
    },
    log,
  );
  return {
    host,
    banner: () => [
      `flow-ingestor ${config.instanceId} is running`,
      ...config.regions.map((r) => `  region ${r.region}: ${r.brokers.join(',')}`),
      `  pipeline cluster ${config.brokers.join(',')}, group ${config.groupId}, topics prefix ${JSON.stringify(config.topicPrefix)}`,
      `  probes and metrics http://${host.httpAddress}/readyz /healthz /metrics`,
    ],
    stop: () => host.stop(),
  };
}

function sameCluster(a: string[], b: string[]): boolean {
  return [...a].sort().join(',') === [...b].sort().join(',');
}
