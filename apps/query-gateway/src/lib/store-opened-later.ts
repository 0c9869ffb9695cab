import type { LayerReader } from '@topology/query';
import type { EdgeListQuery, EdgeRecord, Layer, NodeId, NodeRecord, TraversalQuery, TraversalResult } from '@topology/model';

/**
 * A layer whose store its writer may not have created yet. Until it is opened, every read fails
 * with a message that says so, which the gateway turns into that layer's status on a partial
 * answer; the other layers answer meanwhile.
 */
export class StoreOpenedLater implements LayerReader {
  private reader: LayerReader | undefined;

  constructor(
    private readonly layer: Layer,
    private readonly waitingFor: string,
  ) {}

  get opened(): boolean {
    return this.reader !== undefined;
  }

  open(reader: LayerReader): void {
    this.reader = reader;
  }

  traverse(query: TraversalQuery): Promise<TraversalResult> {
    return this.current().traverse(query);
  }

  getNodes(ids: NodeId[]): Promise<NodeRecord[]> {
    return this.current().getNodes(ids);
  }

  listEdges(query: EdgeListQuery): Promise<EdgeRecord[]> {
    return this.current().listEdges(query);
  }

  private current(): LayerReader {
    if (this.reader === undefined) throw new Error(`the ${this.layer} store is not created yet (${this.waitingFor})`);
    return this.reader;
  }
}
