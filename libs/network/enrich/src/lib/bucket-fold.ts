import type { EdgeContribution } from '@topology/contracts';
import type { NetworkEdgeProps, NodeId, PortProtocol, ViaPath } from '@topology/model';

/**
 * What one contribution adds to a bucket. It shares the contribution's `via` and `ports` arrays
 * instead of copying them: contributions are decoded per message and never changed afterwards.
 */
export interface BucketPart {
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  connections: number;
  retransmits: number;
  rttSumUs: number;
  rttSamples: number;
  confidence: number;
  hop: boolean;
  via: readonly string[];
  ports: readonly PortProtocol[];
  firstSeenMs: number;
  lastSeenMs: number;
}

/**
 * The value of one (src, dst, bucket) at one granularity. The round-trip time is kept as sum and
 * sample count next to the payload so that an app-level fold computes an exact mean rather than
 * a mean of means.
 */
export interface BucketValue {
  props: NetworkEdgeProps;
  rttSumUs: number;
  rttSamples: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

export function bucketPartOf(c: EdgeContribution): BucketPart {
  return {
    bytesSent: c.bytesSent,
    bytesReceived: c.bytesReceived,
    packetsSent: c.packetsSent,
    packetsReceived: c.packetsReceived,
    connections: c.connections,
    retransmits: c.retransmits,
    rttSumUs: c.rttSumUs,
    rttSamples: c.rttSamples,
    confidence: c.confidence,
    hop: c.hop,
    via: c.via,
    ports: c.ports,
    firstSeenMs: c.firstSeenMs,
    lastSeenMs: c.lastSeenMs,
  };
}

/** Whether a held part already says what the contribution says (a replay), so nothing needs recomputing. */
export function partEqualsContribution(p: BucketPart, c: EdgeContribution): boolean {
  if (
    p.bytesSent !== c.bytesSent ||
    p.bytesReceived !== c.bytesReceived ||
    p.packetsSent !== c.packetsSent ||
    p.packetsReceived !== c.packetsReceived ||
    p.connections !== c.connections ||
    p.retransmits !== c.retransmits ||
    p.rttSumUs !== c.rttSumUs ||
    p.rttSamples !== c.rttSamples ||
    p.confidence !== c.confidence ||
    p.hop !== c.hop ||
    p.firstSeenMs !== c.firstSeenMs ||
    p.lastSeenMs !== c.lastSeenMs ||
    p.ports.length !== c.ports.length ||
    p.via.length !== c.via.length
  ) {
    return false;
  }
  for (let i = 0; i < c.ports.length; i++) {
    const a = p.ports[i];
    const b = c.ports[i];
    if (a === undefined || b === undefined || a.port !== b.port || a.protocol !== b.protocol) return false;
  }
  for (let i = 0; i < c.via.length; i++) if (p.via[i] !== c.via[i]) return false;
  return true;
}

interface PathSum {
  via: NodeId[];
  bytes: number;
  /** Σ confidence × bytes. */
  weighted: number;
  /** Stands in for the confidence while the path has no bytes at all. */
  minConfidence: number;
}

/**
 * Accumulates parts (cluster level) or bucket values (app level) in one pass, with the semantics of
 * `mergeNetworkProps` (the store's merger): counts add; ports union; one path per distinct via list
 * with byte-weighted confidence (the lowest one while a path has no bytes); the payload is a hop only
 * when everything in it is. The mean round-trip time is Σ rtt / Σ samples.
 */
class BucketFold {
  private count = 0;
  private bytesSent = 0;
  private bytesReceived = 0;
  private packetsSent = 0;
  private packetsReceived = 0;
  private connections = 0;
  private retransmits = 0;
  private rttSumUs = 0;
  private rttSamples = 0;
  private hop = true;
  private firstSeenMs = Infinity;
  private lastSeenMs = -Infinity;
  // Arrays, not maps: a bucket has a handful of ports and paths, and a fold runs per changed bucket.
  private readonly ports: PortProtocol[] = [];
  private readonly paths: PathSum[] = [];

  addPart(p: BucketPart): void {
    this.addCounts(p, p.rttSumUs, p.rttSamples, p.hop, p.firstSeenMs, p.lastSeenMs);
    for (const port of p.ports) this.addPort(port);
    this.addPath(p.via, p.bytesSent + p.bytesReceived, p.confidence);
  }

  addValue(v: BucketValue): void {
    const p = v.props;
    this.addCounts(p, v.rttSumUs, v.rttSamples, p.hop, v.firstSeenMs, v.lastSeenMs);
    for (const port of p.ports) this.addPort(port);
    for (const path of p.paths) this.addPath(path.via, path.bytes, path.confidence);
  }

  private addCounts(
    c: Pick<BucketPart, 'bytesSent' | 'bytesReceived' | 'packetsSent' | 'packetsReceived' | 'connections' | 'retransmits'>,
    rttSumUs: number,
    rttSamples: number,
    hop: boolean,
    firstSeenMs: number,
    lastSeenMs: number,
  ): void {
    this.count++;
    this.bytesSent += c.bytesSent;
    this.bytesReceived += c.bytesReceived;
    this.packetsSent += c.packetsSent;
    this.packetsReceived += c.packetsReceived;
    this.connections += c.connections;
    this.retransmits += c.retransmits;
    this.rttSumUs += rttSumUs;
    this.rttSamples += rttSamples;
    this.hop = this.hop && hop;
    if (firstSeenMs < this.firstSeenMs) this.firstSeenMs = firstSeenMs;
    if (lastSeenMs > this.lastSeenMs) this.lastSeenMs = lastSeenMs;
  }

  private addPort(p: PortProtocol): void {
    for (const held of this.ports) if (held.port === p.port && held.protocol === p.protocol) return;
    this.ports.push({ port: p.port, protocol: p.protocol });
  }

  private addPath(via: readonly string[], bytes: number, confidence: number): void {
    const held = this.paths.find((p) => sameVia(p.via, via));
    if (held === undefined) {
      this.paths.push({ via: via.slice() as NodeId[], bytes, weighted: confidence * bytes, minConfidence: confidence });
      return;
    }
    held.bytes += bytes;
    held.weighted += confidence * bytes;
    if (confidence < held.minConfidence) held.minConfidence = confidence;
  }

  result(): BucketValue | undefined {
    if (this.count === 0) return undefined;
    const paths: ViaPath[] = [];
    let bytes = 0;
    let weighted = 0;
    let minConfidence = Infinity;
    for (const p of this.paths) {
      const confidence = p.bytes > 0 ? p.weighted / p.bytes : p.minConfidence;
      paths.push({ via: p.via, bytes: p.bytes, confidence });
      bytes += p.bytes;
      weighted += confidence * p.bytes;
      if (confidence < minConfidence) minConfidence = confidence;
    }
    paths.sort(byBytesThenVia);
    const ports = this.ports.sort(byPortThenProtocol);
    const props: NetworkEdgeProps = {
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      packetsSent: this.packetsSent,
      packetsReceived: this.packetsReceived,
      connections: this.connections,
      retransmits: this.retransmits,
      ports,
      paths,
      confidence: bytes > 0 ? weighted / bytes : paths.length === 0 ? 1 : minConfidence,
      hop: this.hop,
    };
    if (this.rttSamples > 0) props.rttMeanUs = this.rttSumUs / this.rttSamples;
    return { props, rttSumUs: this.rttSumUs, rttSamples: this.rttSamples, firstSeenMs: this.firstSeenMs, lastSeenMs: this.lastSeenMs };
  }
}

function sameVia(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function byBytesThenVia(x: ViaPath, y: ViaPath): number {
  return y.bytes - x.bytes || x.via.join(' ').localeCompare(y.via.join(' '));
}

function byPortThenProtocol(x: PortProtocol, y: PortProtocol): number {
  return x.port - y.port || x.protocol.localeCompare(y.protocol);
}

/** The cluster-level value of a bucket from its parts; undefined when it has none. */
export function foldParts(parts: Iterable<BucketPart>): BucketValue | undefined {
  const fold = new BucketFold();
  for (const p of parts) fold.addPart(p);
  return fold.result();
}

/** The app-level value of a bucket from the values of its cluster pairs; undefined when it has none. */
export function foldValues(values: Iterable<BucketValue>): BucketValue | undefined {
  const fold = new BucketFold();
  for (const v of values) fold.addValue(v);
  return fold.result();
}

export function sameBucketValue(a: BucketValue | undefined, b: BucketValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.firstSeenMs === b.firstSeenMs && a.lastSeenMs === b.lastSeenMs && a.rttSamples === b.rttSamples && a.rttSumUs === b.rttSumUs && sameProps(a.props, b.props);
}

function sameProps(a: NetworkEdgeProps, b: NetworkEdgeProps): boolean {
  if (
    a.bytesSent !== b.bytesSent ||
    a.bytesReceived !== b.bytesReceived ||
    a.packetsSent !== b.packetsSent ||
    a.packetsReceived !== b.packetsReceived ||
    a.connections !== b.connections ||
    a.retransmits !== b.retransmits ||
    a.rttMeanUs !== b.rttMeanUs ||
    a.confidence !== b.confidence ||
    a.hop !== b.hop ||
    a.ports.length !== b.ports.length ||
    a.paths.length !== b.paths.length
  ) {
    return false;
  }
  for (let i = 0; i < a.ports.length; i++) {
    const x = a.ports[i];
    const y = b.ports[i];
    if (x === undefined || y === undefined || x.port !== y.port || x.protocol !== y.protocol) return false;
  }
  for (let i = 0; i < a.paths.length; i++) {
    const x = a.paths[i];
    const y = b.paths[i];
    if (x === undefined || y === undefined || x.bytes !== y.bytes || x.confidence !== y.confidence || x.via.length !== y.via.length) return false;
    for (let j = 0; j < x.via.length; j++) if (x.via[j] !== y.via[j]) return false;
  }
  return true;
}
