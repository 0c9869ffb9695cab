import { SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { LayerReader } from '@topology/query';
import type { EdgeListQuery, EdgeRecord, NodeId, NodeRecord, TraversalQuery, TraversalResult } from '@topology/model';

/** A layer's reader whose every read is a span (`<layer> store traverse`), so a slow layer shows in the gateway's traces. */
export class TracedLayerReader implements LayerReader {
  private readonly tracer: Tracer = trace.getTracer('topology-query-gateway');

  constructor(
    private readonly layer: string,
    private readonly reader: LayerReader,
  ) {}

  traverse(query: TraversalQuery): Promise<TraversalResult> {
    return this.span('traverse', { 'topology.roots': query.roots.length, 'topology.depth': query.depth }, () => this.reader.traverse(query));
  }

  getNodes(ids: NodeId[]): Promise<NodeRecord[]> {
    return this.span('getNodes', { 'topology.ids': ids.length }, () => this.reader.getNodes(ids));
  }

  listEdges(query: EdgeListQuery): Promise<EdgeRecord[]> {
    return this.span('listEdges', {}, () => this.reader.listEdges(query));
  }

  private span<T>(operation: string, attributes: Record<string, number>, read: () => Promise<T>): Promise<T> {
    return this.tracer.startActiveSpan(`${this.layer} store ${operation}`, { attributes: { 'topology.layer': this.layer, ...attributes } }, async (span) => {
      try {
        return await read();
      } catch (e) {
        span.recordException(e instanceof Error ? e : String(e));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw e;
      } finally {
        span.end();
      }
    });
  }
}
