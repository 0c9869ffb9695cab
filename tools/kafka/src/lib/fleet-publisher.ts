import type { Bus } from '@topology/bus';
import { ContentTypes, Headers } from '@topology/contracts';
import { lineChunks, type PipelineTopics } from '@topology/runtime-pipeline';
import { NAT_FLOW_LOG_FORMAT, flowRecordJson, type Fleet, type SimulationBatch } from '@topology/sim';

/** Where simulated records go: metadata to the pipeline cluster, each region's records to its cluster. */
export interface FleetTarget {
  topics: PipelineTopics;
  /** The pipeline cluster, where metadata events are published. */
  home: Bus;
  /** The cluster of a region's exporters; the pipeline cluster for every region by default. */
  regionBus?: (region: string) => Bus;
  /** Largest message, bytes of whole lines. */
  maxMessageBytes?: number;
}

/**
 * Publishes a simulated fleet the way its exporters would: host agent records (canonical JSON
 * lines) to the cluster of the reporting host's region, NAT gateway flow logs (VPC format) to the
 * cluster of the gateway's region, metadata events to the pipeline cluster.
 */
export class FleetPublisher {
  private readonly natRegion = new Map<string, string>();
  records = 0;

  constructor(
    fleet: Fleet,
    private readonly target: FleetTarget,
  ) {
    for (const nat of fleet.natGateways) this.natRegion.set(nat.ip, nat.region);
  }

  /** Publishes a batch: its metadata events first, then its records. */
  async publish(batch: SimulationBatch): Promise<void> {
    await this.publishMetadata(batch);
    await this.publishRecords(batch);
  }

  /** Publishes a batch's metadata events; returns the number of messages. */
  async publishMetadata(batch: SimulationBatch): Promise<number> {
    if (batch.metadata.length === 0) return 0;
    return this.send(this.target.home, this.target.topics.metadata, batch.metadata.map((e) => JSON.stringify(e)), { [Headers.contentType]: ContentTypes.metadataJsonLines });
  }

  async publishRecords(batch: SimulationBatch): Promise<void> {
    const { topics } = this.target;
    const flows = new Map<string, string[]>();
    for (const record of batch.flows) push(flows, record.localIdentity.region ?? '', flowRecordJson(record));
    const nat = new Map<string, string[]>();
    for (const line of batch.natFlowLog) {
      const fields = line.split(' ');
      push(nat, this.natRegion.get(fields[4] ?? '') ?? this.natRegion.get(fields[5] ?? '') ?? '', line);
    }
    for (const [region, lines] of flows) await this.send(this.busOf(region), topics.flowsCanonical, lines, { [Headers.contentType]: ContentTypes.flowJsonLines });
    for (const [region, lines] of nat) {
      await this.send(this.busOf(region), topics.flowsVpc, lines, { [Headers.contentType]: ContentTypes.vpcText, [Headers.vpcFormat]: NAT_FLOW_LOG_FORMAT });
    }
    this.records += batch.flows.length + batch.natFlowLog.length;
  }

  private busOf(region: string): Bus {
    return this.target.regionBus?.(region) ?? this.target.home;
  }

  private async send(bus: Bus, topic: string, lines: string[], headers: Record<string, string>): Promise<number> {
    const payload = Buffer.from(lines.join('\n') + '\n');
    const messages = [...lineChunks(payload, this.target.maxMessageBytes ?? 32 * 1024)].map((value) => ({ key: null, value, headers }));
    await bus.publish(topic, messages);
    return messages.length;
  }
}

function push(map: Map<string, string[]>, key: string, line: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [line]);
  else list.push(line);
}
