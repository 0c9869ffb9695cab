import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadAllInOneConfig, publishFlows, publishMetadata, type AllInOneConfig } from '@topology/runtime-pipeline';
import { NAT_FLOW_LOG_FORMAT, flowRecordJson, type SimulationBatch } from '@topology/sim';
import { createTopologyClient, type EdgeMessage, type GranularityName } from '@topology/runtime-gateway';
import { AllInOne } from '../lib/all-in-one';

/** An all-in-one on ephemeral ports and a fresh data folder, without the live simulated fleet. */
export function testConfig(dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-aio-'))): AllInOneConfig {
  return {
    ...loadAllInOneConfig({}),
    dataDir,
    httpAddress: '127.0.0.1:0',
    grpcAddress: '127.0.0.1:0',
    otlpHttpAddress: '127.0.0.1:0',
    otlpGrpcAddress: '127.0.0.1:0',
    simulate: false,
    // Simulated runs are dated in the past: keep their history.
    retentionMs: 20 * 365 * 24 * 3_600_000,
  };
}

/** Publishes simulated batches the way the live feed does. */
export async function feedBatches(app: AllInOne, batches: Iterable<SimulationBatch>): Promise<number> {
  let records = 0;
  for (const b of batches) {
    if (b.metadata.length > 0) await publishMetadata(app.bus, Buffer.from(b.metadata.map((e) => JSON.stringify(e)).join('\n') + '\n'));
    await publishFlows(app.bus, 'canonical', Buffer.from(b.flows.map(flowRecordJson).join('\n') + '\n'));
    if (b.natFlowLog.length > 0) await publishFlows(app.bus, 'vpc', Buffer.from(b.natFlowLog.join('\n') + '\n'), NAT_FLOW_LOG_FORMAT);
    records += b.flows.length + b.natFlowLog.length;
  }
  return records;
}

/**
 * Every dependency edge (hops excluded) leaving the given roots, read over gRPC with the real
 * client, page by page.
 */
export async function readEdgesOverGrpc(address: string, roots: string[], granularity: GranularityName, range: { fromMs: number; toMs: number }): Promise<EdgeMessage[]> {
  const client = createTopologyClient(address);
  const edges: EdgeMessage[] = [];
  try {
    for (let i = 0; i < roots.length; i += 100) {
      let pageToken = '';
      do {
        const page = await client.traverse({
          roots: roots.slice(i, i + 100),
          direction: 'DIRECTION_DOWN',
          depth: 1,
          granularity,
          range,
          pageSize: 1000,
          pageToken,
        });
        const failed = page.layerStatus.filter((s) => s.state !== 'STATE_OK');
        if (failed.length > 0) throw new Error(`layer failed: ${JSON.stringify(failed)}`);
        edges.push(...page.edges);
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
    }
  } finally {
    client.close();
  }
  const unique = new Map(edges.map((e) => [`${e.src} ${e.dst}`, e]));
  return [...unique.values()];
}
