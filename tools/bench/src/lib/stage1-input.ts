import { ContentTypes, encodeFlowRecordBatch, Headers, type FlowRecord, type MetadataEvent } from '@topology/contracts';
import { NAT_FLOW_LOG_FORMAT, flowRecordJson, generateTraffic, type Fleet } from '@topology/sim';
import { appendVpcRecords, VPC_V2_FORMAT, VPC_V5_FORMAT, type VpcVersion } from './vpc-records';

export const STAGE1_FORMATS = ['canonical', 'canonical-protobuf', 'vpc-v2', 'vpc-v5', 'vpc-nat'] as const;
export type Stage1Format = (typeof STAGE1_FORMATS)[number];
/** The formats that are lines of text. */
type LineFormat = Exclude<Stage1Format, 'canonical-protobuf'>;

/** One bus message's worth of records, as an exporter or log shipper would publish it. */
export interface FlowPayload {
  value: Buffer;
  headers: Record<string, string>;
  /** Partition of the source topic it lands on (round-robin, as unkeyed messages do). */
  partition: number;
  /** Lines in the payload. */
  records: number;
  /** Processing time at which it is consumed: the end of the interval it reports. */
  atMs: number;
}

export interface Stage1Input {
  metadata: MetadataEvent[];
  payloads: Record<Stage1Format, FlowPayload[]>;
  startMs: number;
  endMs: number;
}

/** Splits a stream of lines into payloads of at most `linesPerPayload` lines; never across intervals. */
class PayloadStream {
  readonly payloads: FlowPayload[] = [];
  private lines: string[] = [];
  private nextPartition = 0;

  constructor(
    private readonly headers: Record<string, string>,
    private readonly linesPerPayload: number,
    private readonly partitions: number,
  ) {}

  push(line: string, atMs: number): void {
    this.lines.push(line);
    if (this.lines.length >= this.linesPerPayload) this.end(atMs);
  }

  pushAll(lines: readonly string[], atMs: number): void {
    for (const line of lines) this.push(line, atMs);
  }

  /** Ends the current payload (the interval is over). */
  end(atMs: number): void {
    if (this.lines.length === 0) return;
    this.payloads.push({ value: Buffer.from(this.lines.join('\n') + '\n'), headers: this.headers, partition: this.nextPartition, records: this.lines.length, atMs });
    this.nextPartition = (this.nextPartition + 1) % this.partitions;
    this.lines = [];
  }
}

/**
 * The whole run of a simulated fleet as stage-1 payloads, rendered before any timing: the host
 * agents' canonical JSON lines, the same flows as the VPC records (version 2 and 5) their hosts'
 * interfaces would log, and the NAT gateways' VPC log in the simulator's custom format.
 */
export function buildStage1Input(fleet: Fleet, formats: readonly Stage1Format[], linesPerPayload: number, partitions: number): Stage1Input {
  const want = new Set(formats);
  const streams: Record<LineFormat, PayloadStream> = {
    canonical: new PayloadStream({ [Headers.contentType]: ContentTypes.flowJsonLines }, linesPerPayload, partitions),
    'vpc-v2': new PayloadStream({ [Headers.contentType]: ContentTypes.vpcText, [Headers.vpcFormat]: VPC_V2_FORMAT }, linesPerPayload, partitions),
    'vpc-v5': new PayloadStream({ [Headers.contentType]: ContentTypes.vpcText, [Headers.vpcFormat]: VPC_V5_FORMAT }, linesPerPayload, partitions),
    'vpc-nat': new PayloadStream({ [Headers.contentType]: ContentTypes.vpcText, [Headers.vpcFormat]: NAT_FLOW_LOG_FORMAT }, linesPerPayload, partitions),
  };
  const protobuf: FlowPayload[] = [];
  const vpcVersions: [LineFormat, VpcVersion][] = [
    ['vpc-v2', 2],
    ['vpc-v5', 5],
  ];
  const metadata: MetadataEvent[] = [];
  const scratch: string[] = [];
  for (const batch of generateTraffic(fleet)) {
    metadata.push(...batch.metadata);
    const atMs = batch.window.endMs;
    if (want.has('canonical')) for (const r of batch.flows) streams.canonical.push(flowRecordJson(r), atMs);
    for (const [format, version] of vpcVersions) {
      if (!want.has(format)) continue;
      for (const r of batch.flows) {
        scratch.length = 0;
        appendVpcRecords(r, version, scratch);
        streams[format].pushAll(scratch, atMs);
      }
    }
    if (want.has('vpc-nat')) streams['vpc-nat'].pushAll(batch.natFlowLog, atMs);
    if (want.has('canonical-protobuf')) appendProtobufBatches(batch.flows, atMs, linesPerPayload, partitions, protobuf);
    for (const stream of Object.values(streams)) stream.end(atMs);
  }
  return {
    metadata,
    payloads: {
      canonical: streams.canonical.payloads,
      'canonical-protobuf': protobuf,
      'vpc-v2': streams['vpc-v2'].payloads,
      'vpc-v5': streams['vpc-v5'].payloads,
      'vpc-nat': streams['vpc-nat'].payloads,
    },
    startMs: fleet.startMs,
    endMs: fleet.endMs,
  };
}

const PROTOBUF_HEADERS = { [Headers.contentType]: ContentTypes.flowProtobuf };

/** The same records as protobuf `FlowRecordBatch` messages of `perBatch` records (the exporters' binary option). */
function appendProtobufBatches(records: readonly FlowRecord[], atMs: number, perBatch: number, partitions: number, out: FlowPayload[]): void {
  for (let i = 0; i < records.length; i += perBatch) {
    const slice = records.slice(i, i + perBatch);
    out.push({ value: Buffer.from(encodeFlowRecordBatch(slice)), headers: PROTOBUF_HEADERS, partition: out.length % partitions, records: slice.length, atMs });
  }
}
