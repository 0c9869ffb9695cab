import * as fs from 'fs';
import * as path from 'path';
import type { SimulationConfig } from './config';
import { nodeId } from '@topology/model';
import { planFleet } from './fleet';
import { flowRecordJson } from './flow-record-json';
import { NAT_FLOW_LOG_FORMAT } from './nat-flow-log';
import { generateTraffic } from './traffic';
import { fleetTruth } from './truth';

/** File names inside the output folder. */
export const SIMULATION_FILES = {
  flows: 'flows.jsonl',
  natFlowLog: 'nat-vpc.log',
  natFlowLogFormat: 'nat-vpc.format',
  metadata: 'metadata.jsonl',
  truth: 'truth.json',
} as const;

export interface SimulationSummary {
  seed: number;
  apps: number;
  clusters: number;
  instances: number;
  loadBalancers: number;
  reassignedIps: number;
  flowRecords: number;
  natFlowLogLines: number;
  metadataEvents: number;
  appEdges: number;
  clusterEdges: number;
  crossRegionClusterEdges: number;
  startMs: number;
  endMs: number;
}

/** Plans, generates and writes one run to `outDir`, streaming the records batch by batch. */
export function writeSimulation(config: Partial<SimulationConfig>, outDir: string): SimulationSummary {
  const fleet = planFleet(config);
  const truth = fleetTruth(fleet);
  fs.mkdirSync(outDir, { recursive: true });
  const flows = new LineWriter(path.join(outDir, SIMULATION_FILES.flows));
  const nat = fs.openSync(path.join(outDir, SIMULATION_FILES.natFlowLog), 'w');
  const metadata = fs.openSync(path.join(outDir, SIMULATION_FILES.metadata), 'w');
  let flowRecords = 0;
  let natFlowLogLines = 0;
  let metadataEvents = 0;
  try {
    for (const batch of generateTraffic(fleet)) {
      for (const f of batch.flows) flows.line(flowRecordJson(f));
      if (batch.natFlowLog.length > 0) fs.writeSync(nat, batch.natFlowLog.join('\n') + '\n');
      if (batch.metadata.length > 0) fs.writeSync(metadata, batch.metadata.map((e) => JSON.stringify(e)).join('\n') + '\n');
      flowRecords += batch.flows.length;
      natFlowLogLines += batch.natFlowLog.length;
      metadataEvents += batch.metadata.length;
    }
  } finally {
    flows.close();
    fs.closeSync(nat);
    fs.closeSync(metadata);
  }
  fs.writeFileSync(path.join(outDir, SIMULATION_FILES.natFlowLogFormat), NAT_FLOW_LOG_FORMAT + '\n');
  fs.writeFileSync(path.join(outDir, SIMULATION_FILES.truth), JSON.stringify(truth, null, 1) + '\n');
  const regionOf = new Map(fleet.clusters.map((c) => [nodeId('cluster', c.name), c.region]));
  return {
    seed: fleet.config.seed,
    apps: fleet.apps.length,
    clusters: fleet.clusters.length,
    instances: fleet.instances.length,
    loadBalancers: fleet.loadBalancers.length,
    reassignedIps: truth.reassignedIps.length,
    flowRecords,
    natFlowLogLines,
    metadataEvents,
    appEdges: truth.appEdges.length,
    clusterEdges: truth.clusterEdges.length,
    crossRegionClusterEdges: truth.clusterEdges.filter((e) => {
      const a = regionOf.get(e.src);
      const b = regionOf.get(e.dst);
      return a !== undefined && b !== undefined && a !== b;
    }).length,
    startMs: fleet.startMs,
    endMs: fleet.endMs,
  };
}

/**
 * Appends lines to a file through one reused buffer: joining a batch into one large string first
 * costs more in copying and garbage than generating the records did.
 */
class LineWriter {
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(4 << 20);
  private used = 0;

  constructor(file: string) {
    this.fd = fs.openSync(file, 'w');
  }

  line(text: string): void {
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit, plus the newline.
    if (this.used + text.length * 3 + 1 > this.buffer.length) this.flush();
    if (text.length * 3 + 1 > this.buffer.length) {
      fs.writeSync(this.fd, text + '\n');
      return;
    }
    this.used += this.buffer.write(text, this.used, 'utf8');
    this.buffer[this.used++] = 0x0a;
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }

  private flush(): void {
    let offset = 0;
    while (offset < this.used) offset += fs.writeSync(this.fd, this.buffer, offset, this.used - offset);
    this.used = 0;
  }
}
