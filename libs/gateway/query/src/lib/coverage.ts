import { EdgeRecord, Layer, NodeId, NodeKind, NodeRecord, parseNodeId, TimeRange } from '@topology/model';
import { compareIds } from './merge';

export interface CoverageSplit {
  /** Seen on the network, reporting no application metrics themselves; ordered by id. */
  networkOnly: NodeId[];
  /** Present in the application layer, absent from the network layer; ordered by id. */
  applicationOnly: NodeId[];
  bothCount: number;
  /** The layers that have each listed node at an end of an edge. */
  layersOf: ReadonlyMap<NodeId, Layer[]>;
}

/**
 * Which services the network sees that application metrics do not describe, and the reverse, as
 * the layers' edges tell; `withReportingNodes` then adds what the application layer's node records
 * tell.
 *
 * A service counts as instrumented when it reports application metrics itself. From the edges: it
 * is the source of an edge its own client metrics describe (any endpoint not marked
 * `serverReportedOnly`, or no endpoint detail at all), or the target of calls only its server
 * metrics saw (an endpoint marked `serverReportedOnly`) or that its server metrics also reported
 * (`serverReported`, which the ingestor sets whenever the target reported calls of its own in the
 * bucket, even with metrics that name no caller). A service the application layer knows only
 * because instrumented peers name it is not instrumented: it is listed as network-only, with both
 * layers in its `layersOf`.
 */
export function splitCoverage(networkEdges: readonly EdgeRecord[], applicationEdges: readonly EdgeRecord[], kind: NodeKind): CoverageSplit {
  const onNetwork = new Set<NodeId>();
  for (const edge of networkEdges) {
    if (isKind(edge.src, kind)) onNetwork.add(edge.src);
    if (isKind(edge.dst, kind)) onNetwork.add(edge.dst);
  }
  const inApplication = new Set<NodeId>();
  const reporting = new Set<NodeId>();
  for (const edge of applicationEdges) {
    const props = edge.props.application;
    if (isKind(edge.src, kind)) {
      inApplication.add(edge.src);
      if (props !== undefined && (props.endpoints.length === 0 || props.endpoints.some((e) => e.serverReportedOnly !== true))) reporting.add(edge.src);
    }
    if (isKind(edge.dst, kind)) {
      inApplication.add(edge.dst);
      if (props !== undefined && (props.serverReported === true || props.endpoints.some((e) => e.serverReportedOnly === true))) reporting.add(edge.dst);
    }
  }
  const layersOf = new Map<NodeId, Layer[]>();
  const networkOnly: NodeId[] = [];
  let bothCount = 0;
  for (const id of onNetwork) {
    if (reporting.has(id)) {
      bothCount++;
      continue;
    }
    networkOnly.push(id);
    layersOf.set(id, inApplication.has(id) ? ['network', 'application'] : ['network']);
  }
  const applicationOnly: NodeId[] = [];
  for (const id of inApplication) {
    if (onNetwork.has(id)) continue;
    applicationOnly.push(id);
    layersOf.set(id, ['application']);
  }
  return { networkOnly: networkOnly.sort(compareIds), applicationOnly: applicationOnly.sort(compareIds), bothCount, layersOf };
}

/**
 * The split with the network-only services whose application-layer record says they report IPC
 * metrics of their own (`reportsIpcMetrics`) counted as instrumented: a service whose own metrics
 * make no edge (server metrics naming no caller while no caller is instrumented, client metrics
 * naming only addresses) is told apart only this way. Edges stay the first source, for stores and
 * layers that do not keep the fact.
 *
 * The fact is not bucketed: a record counts when the application layer saw the node in the range
 * (last seen at or after its start), so a service that reported once within the store's retention
 * and is still named by its callers counts as instrumented.
 */
export function withReportingNodes(split: CoverageSplit, applicationRecords: readonly NodeRecord[], range: TimeRange): CoverageSplit {
  const reporting = new Set<NodeId>();
  for (const record of applicationRecords) {
    if (record.reportsIpcMetrics === true && record.lastSeenMs >= range.fromMs && record.firstSeenMs < range.toMs) reporting.add(record.id);
  }
  if (reporting.size === 0) return split;
  const layersOf = new Map(split.layersOf);
  const networkOnly: NodeId[] = [];
  for (const id of split.networkOnly) {
    if (!reporting.has(id)) {
      networkOnly.push(id);
      continue;
    }
    layersOf.delete(id);
  }
  return { networkOnly, applicationOnly: split.applicationOnly, bothCount: split.bothCount + split.networkOnly.length - networkOnly.length, layersOf };
}

function isKind(id: NodeId, kind: NodeKind): boolean {
  return parseNodeId(id).kind === kind;
}
