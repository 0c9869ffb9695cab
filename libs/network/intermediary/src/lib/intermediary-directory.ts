import type { AppMetadata, IntermediaryListener } from '@topology/contracts';
import { NodeId, Peer, nodeId } from '@topology/model';

/**
 * What metadata says about intermediaries: which workload apps act as one (API gateways, proxies
 * with their own agents), and which clusters each listener port of an intermediary forwards to.
 */
export class IntermediaryDirectory {
  /** Apps acting as intermediaries, with their node ids. */
  private readonly workloadIntermediaries = new Map<string, NodeId>();
  private readonly addressIntermediaries = new Map<string, NodeId>();
  private readonly listeners = new Map<NodeId, Map<number, ReadonlySet<string>>>();

  /** The intermediary a peer is, as a node id, or undefined when it is an ordinary end. */
  intermediaryOf(peer: Peer): NodeId | undefined {
    if (peer.kind === 'intermediary') {
      let node = this.addressIntermediaries.get(peer.id);
      if (node === undefined) {
        node = nodeId('intermediary', peer.id);
        this.addressIntermediaries.set(peer.id, node);
      }
      return node;
    }
    if (peer.kind === 'workload') return this.workloadIntermediaries.get(peer.app);
    return undefined;
  }

  /** Records an app's intermediary role; returns true when the app became or stopped being one. */
  setApp(meta: AppMetadata): boolean {
    const was = this.workloadIntermediaries.has(meta.app);
    if (meta.intermediaryType === undefined) {
      this.workloadIntermediaries.delete(meta.app);
      return was;
    }
    this.workloadIntermediaries.set(meta.app, nodeId('app', meta.app));
    return !was;
  }

  /** Replaces the targets of one listener (an empty list forgets it); returns the intermediary's node. */
  setListener(listener: IntermediaryListener): NodeId {
    const node = nodeId('intermediary', listener.intermediaryId);
    let ports = this.listeners.get(node);
    if (listener.targetClusters.length === 0) {
      ports?.delete(listener.port);
      if (ports?.size === 0) this.listeners.delete(node);
      return node;
    }
    if (ports === undefined) {
      ports = new Map();
      this.listeners.set(node, ports);
    }
    ports.set(listener.port, new Set(listener.targetClusters));
    return node;
  }

  /** Clusters that a listener port of the intermediary forwards to, when metadata knows them. */
  listenerTargets(intermediary: NodeId, port: number): ReadonlySet<string> | undefined {
    return this.listeners.get(intermediary)?.get(port);
  }
}
