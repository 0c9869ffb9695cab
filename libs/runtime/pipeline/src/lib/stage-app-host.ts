import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { KafkaBus, KafkaBusError, consoleBusLogger, type BusLogger } from '@topology/bus-kafka';
import { systemClock } from '@topology/model';
import type { Registry } from 'prom-client';
import type { Bus, TopicSpec } from '@topology/bus';
import { KafkaStageInput } from './kafka-stage-input';
import { RenewingProducerBus } from './renewing-producer-bus';
import { createMetricsRegistry } from './metrics';
import { OpsHttpModule } from './ops-http.module';
import type { StageInput } from './stage-input';
import type { StageRunner, StageRunnerOptions } from './stage-runner';
import { kafkaClientConfig, type StageAppConfig } from './stage-app.config';
import { startTracing, type Tracing } from './tracing';
import { pipelineTopicSpecs } from './topic-names';
import { Liveness, Readiness } from './tokens';

/** What a stage app builds on the host: its runner, plus what it opened and must close after it. */
export interface HostedStage {
  runner: StageRunner;
  /** Inputs on other clusters (regions), closed after the runner stopped. */
  inputs?: StageInput[];
  /** Closes what the stage wrote to (a store), after the runner stopped. */
  close?: () => Promise<void>;
}

/** What the host gives a stage app to build its runner with. */
export interface StageHostContext {
  config: StageAppConfig;
  /** The pipeline cluster: outputs, dead letters, broadcast topics. */
  bus: Bus;
  /** The stage's main input on the pipeline cluster, committing the stage's checkpoints. */
  input: KafkaStageInput;
  registry: Registry;
  liveness: Liveness;
  log: (message: string) => void;
  /** Runner options common to every stage: bus, clock, metrics, ids, flush settings, topics, catch-up of broadcast topics. */
  runnerOptions: StageRunnerOptions;
}

/**
 * The process around a stage: tracing, a Prometheus registry, `/healthz` `/readyz` `/metrics`,
 * the Kafka bus of the pipeline cluster (topics created with their partition counts), the stage's
 * checkpointing input, and an orderly stop (stop consuming, flush, commit, close).
 */
export class StageAppHost {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: StageAppConfig,
    readonly hosted: HostedStage,
    readonly bus: Bus,
    readonly input: KafkaStageInput,
    readonly http: INestApplication,
    readonly httpAddress: string,
    readonly registry: Registry,
    private readonly readiness: Readiness,
    private readonly tracing: Tracing,
  ) {}

  static async start(config: StageAppConfig, build: (context: StageHostContext) => Promise<HostedStage>, log: (message: string) => void = (m) => console.error(m)): Promise<StageAppHost> {
    const tracing = startTracing({ enabled: config.tracing, serviceName: `topology-${config.stage}`, instanceId: config.instanceId });
    const registry = createMetricsRegistry({ app: config.stage });
    const readiness = new Readiness(['kafka', 'stage']);
    const liveness = new Liveness();
    const { http, address } = await listenOps(config.httpAddress, registry, readiness, liveness);
    // The bus adapter only logs a consumer kafkajs gave up on; a broadcast topic no longer read makes the process unhealthy.
    const console = consoleBusLogger(config.kafka.logLevel);
    const logger: BusLogger = {
      log(level, message, fields) {
        console.log(level, message, fields);
        if (message.includes('consumer crashed and stopped')) liveness.fail(`kafka ${String(fields['groupId'])}`, message);
      },
    };
    let producers = 0;
    const bus = new RenewingProducerBus(
      new KafkaBus({ ...kafkaClientConfig(config, config.brokers), logger }),
      () => new KafkaBus({ ...kafkaClientConfig(config, config.brokers, `-producer-${++producers}`), logger }),
      log,
    );
    const input = new KafkaStageInput({ kafka: kafkaClientConfig(config, config.brokers, '-input'), name: 'pipeline', onFatal: (e) => liveness.fail('kafka', e.message) });
    try {
      const specs = pipelineTopicSpecs(config.topics, config.partitions);
      await ensureTopicsPatiently(bus, specs, log);
      await input.waitForTopics(specs.map((s) => s.topic));
      readiness.ready('kafka');
      const runnerOptions: StageRunnerOptions = {
        bus,
        clock: systemClock,
        registry,
        instanceId: config.instanceId,
        flushIntervalMs: config.flushIntervalMs,
        maxPendingRecords: config.maxPendingRecords,
        log,
        topics: config.topics,
        groupId: config.groupId,
        input,
        broadcastEnds: (topic) => input.topicEnds(topic),
      };
      const hosted = await build({ config, bus, input, registry, liveness, log, runnerOptions });
      liveness.watch(() => {
        const idle = hosted.runner.msSinceFlush();
        return idle > config.flushStallMs ? `no flush completed for ${Math.round(idle / 1000)} s` : undefined;
      });
      await hosted.runner.start();
      readiness.ready('stage');
      return new StageAppHost(config, hosted, bus, input, http, address, registry, readiness, tracing);
    } catch (e) {
      await Promise.allSettled([bus.close(), input.close(), http.close(), tracing.shutdown()]);
      throw e;
    }
  }

  /** Stops consuming (in-flight batches flush and commit), flushes what is held, and closes every client. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.readiness.waitFor('stopping');
      await this.hosted.runner.stop();
      await Promise.all([this.input.close(), ...(this.hosted.inputs ?? []).map((i) => i.close())]);
      await this.bus.close();
      await this.hosted.close?.();
      await this.http.close();
      await this.tracing.shutdown();
    })();
    return this.stopping;
  }
}

/**
 * Creates the topics a stage uses, waiting out a cluster that is still starting (unreachable, no
 * leader or no metadata for a topic yet) for up to `patienceMs`; other failures throw at once.
 */
export async function ensureTopicsPatiently(bus: Bus, specs: TopicSpec[], log: (message: string) => void, patienceMs = 60_000): Promise<void> {
  const deadline = Date.now() + patienceMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await bus.ensureTopics(specs);
      return;
    } catch (e) {
      const code = e instanceof KafkaBusError ? e.code : undefined;
      const transient = code === 'unreachable' || code === 'timeout' || code === 'unknown-topic';
      if (!transient || Date.now() > deadline) throw e;
      if (attempt === 1) log(`creating topics: ${e instanceof Error ? e.message : String(e)}; retrying`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * attempt, 2_000)));
    }
  }
}

/** Starts the probes and metrics server; resolves with the address it bound. */
export async function listenOps(httpAddress: string, registry: Registry, readiness: Readiness, liveness: Liveness): Promise<{ http: INestApplication; address: string }> {
  const http = await NestFactory.create(OpsHttpModule.forRoot({ registry, readiness, liveness }), { logger: ['error', 'warn'] });
  const colon = httpAddress.lastIndexOf(':');
  const host = httpAddress.slice(0, colon) || '0.0.0.0';
  const port = Number(httpAddress.slice(colon + 1));
  await http.listen(port, host);
  const bound = http.getHttpServer().address();
  return { http, address: `${host}:${typeof bound === 'object' && bound !== null ? bound.port : port}` };
}
