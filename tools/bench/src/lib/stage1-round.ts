import type { IpOwnership, MetadataEvent } from '@topology/contracts';
import { DEFAULT_FLOW_INGESTOR_CONFIG, FlowIngestor, FlowParsers, isParser, newFlowParserCounters } from '@topology/flow-ingest';
import { ManualClock } from '@topology/model';
import type { FlowPayload } from './stage1-input';

export interface Stage1RoundOptions {
  metadata: readonly MetadataEvent[];
  /** Ownership ranges another instance published, applied before timing (for formats without identity). */
  ownership: readonly IpOwnership[];
  startMs: number;
  endMs: number;
  region: string;
  /** Records between two `flush()` calls, as the runtime's flush gate would space them. */
  flushEvery: number;
  /** Source topic, naming the scopes as the runtime does (`region/topic/partition`). */
  topic: string;
}

export interface Stage1Round {
  records: number;
  flows: number;
  rejected: number;
  cpuSeconds: number;
  wallSeconds: number;
  heapUsedBytes: number;
  snapshots: number;
  ownershipPublished: IpOwnership[];
  /** Ends attributed, by rule; tells that the work measured was the real attribution. */
  endsByRule: Map<string, number>;
  heldAtEnd: number;
}

declare const gc: (() => void) | undefined;

/**
 * One timed pass of stage 1 over the payloads: per payload, the partition's parser (`parserFor`),
 * `parse`, then `FlowIngestor.ingest`; a `flush()` every `flushEvery` records and one at the end.
 * Processing time follows the payloads (each is consumed at the end of the interval it reports),
 * so hold-back and ownership publishing behave as they would live. Everything set up before the
 * clock starts (ingestor, metadata, ownership) is outside the measurement.
 */
export function runStage1Round(payloads: readonly FlowPayload[], o: Stage1RoundOptions): Stage1Round {
  const clock = new ManualClock(o.endMs);
  const ingestor = new FlowIngestor({ ...DEFAULT_FLOW_INGESTOR_CONFIG }, clock);
  for (const event of o.metadata) ingestor.applyMetadata(event);
  for (const range of o.ownership) ingestor.applyOwnership(range);
  clock.set(o.startMs);
  const parserCounters = newFlowParserCounters();
  const parsers = new Map<number, FlowParsers>();
  const scopes = new Map<number, string>();
  for (const p of payloads) {
    if (!parsers.has(p.partition)) {
      parsers.set(p.partition, new FlowParsers({ region: o.region, clock, counters: parserCounters }));
      scopes.set(p.partition, `${o.region}/${o.topic}/${p.partition}`);
    }
  }
  const ownershipPublished: IpOwnership[] = [];
  let records = 0;
  let flows = 0;
  let rejected = 0;
  let snapshots = 0;
  let sinceFlush = 0;
  if (typeof gc === 'function') gc();

  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  for (let i = 0; i < payloads.length; i++) {
    const p = payloads[i] as FlowPayload;
    clock.set(p.atMs);
    const parser = (parsers.get(p.partition) as FlowParsers).parserFor(p.headers['content-type'] ?? '', p.headers);
    if (!isParser(parser)) throw new Error(`no parser for ${JSON.stringify(p.headers)}: ${parser.message}`);
    const parsed = parser.parse(p.value);
    rejected += parsed.rejections.length;
    flows += parsed.flows.length;
    rejected += ingestor.ingest(parsed.flows, scopes.get(p.partition) as string).length;
    records += p.records;
    sinceFlush += p.records;
    if (sinceFlush >= o.flushEvery) {
      sinceFlush = 0;
      const out = ingestor.flush();
      snapshots += out.snapshots.length;
      for (const range of out.ownership) ownershipPublished.push(range);
    }
  }
  const last = ingestor.flush();
  snapshots += last.snapshots.length;
  for (const range of last.ownership) ownershipPublished.push(range);
  const wall1 = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpu0);

  if (typeof gc === 'function') gc();
  const heapUsedBytes = process.memoryUsage().heapUsed;
  // Ranges still inside their publish interval come out once processing time has moved on.
  clock.set(o.endMs + 60_000);
  for (const range of ingestor.flush().ownership) ownershipPublished.push(range);
  const endsByRule = new Map<string, number>();
  for (const e of ingestor.counters.entries()) if (e.name === 'ends_attributed' && e.label !== undefined) endsByRule.set(e.label, e.value);
  return {
    records,
    flows,
    rejected,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds: Number(wall1 - wall0) / 1e9,
    heapUsedBytes,
    snapshots,
    ownershipPublished,
    endsByRule,
    heldAtEnd: ingestor.heldCount(),
  };
}
