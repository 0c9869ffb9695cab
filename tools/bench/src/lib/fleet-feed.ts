import type { Bus } from '@topology/bus';
import { publishFlows, publishMetadata } from '@topology/runtime-pipeline';
import { NAT_FLOW_LOG_FORMAT, flowRecordJson, generateTraffic, type Fleet } from '@topology/sim';

/** One reporting interval of the fleet, rendered as its exporters would publish it. */
export interface RenderedInterval {
  /** End of the interval, event time: when its records are published live. */
  endMs: number;
  metadata: Buffer | undefined;
  canonical: Buffer;
  nat: Buffer | undefined;
  records: number;
}

/** Renders the whole run up front, so a timed feed measures the platform and not the simulator. */
export function renderFleet(fleet: Fleet): RenderedInterval[] {
  const out: RenderedInterval[] = [];
  for (const b of generateTraffic(fleet)) {
    out.push({
      endMs: b.window.endMs,
      metadata: b.metadata.length > 0 ? Buffer.from(b.metadata.map((e) => JSON.stringify(e)).join('\n') + '\n') : undefined,
      canonical: Buffer.from(b.flows.map(flowRecordJson).join('\n') + '\n'),
      nat: b.natFlowLog.length > 0 ? Buffer.from(b.natFlowLog.join('\n') + '\n') : undefined,
      records: b.flows.length + b.natFlowLog.length,
    });
  }
  return out;
}

/** Publishes one interval the way the all-in-one's own simulated feed and HTTP intake do. */
export async function publishInterval(bus: Bus, interval: RenderedInterval): Promise<void> {
  if (interval.metadata) await publishMetadata(bus, interval.metadata);
  await publishFlows(bus, 'canonical', interval.canonical);
  if (interval.nat) await publishFlows(bus, 'vpc', interval.nat, NAT_FLOW_LOG_FORMAT);
}
