import { NodeId, nodeId } from '@topology/model';
import type { Fleet, LbListener, Route, SimCluster } from './fleet';

/** A resolved dependency and every via path (node ids of the intermediaries, in order) it is seen through. */
export interface TruthEdge {
  src: NodeId;
  dst: NodeId;
  vias: NodeId[][];
}

export interface TruthReassignment {
  ip: string;
  region: string;
  fromCluster: string;
  fromInstance: string;
  /** The previous owner held the address until this instant (exclusive). */
  untilMs: number;
  toCluster: string;
  toInstance: string;
  /** The next owner holds it from this instant on. */
  sinceMs: number;
  sameInterval: boolean;
}

/**
 * What a correct pipeline must produce from the simulated records: the resolved dependencies (never
 * the raw hops to and from intermediaries), at app and cluster granularity.
 */
export interface FleetTruth {
  seed: number;
  startMs: number;
  endMs: number;
  appEdges: TruthEdge[];
  clusterEdges: TruthEdge[];
  /** Node ids of every intermediary that traffic passes through. */
  expectedIntermediaries: NodeId[];
  /** Addresses owned by two workloads (of different apps) at different times during the run. */
  reassignedIps: string[];
  reassignments: TruthReassignment[];
}

/**
 * The dependencies follow from the routes:
 * - direct: client cluster → server cluster;
 * - load balancer: client cluster → every target of the listener it dialled (the balancer reaches
 *   every target of a listener in each interval the listener has clients, so per-window
 *   apportioning links the client to each of them);
 * - external: client cluster → the external service, via the NAT gateway of the client's region;
 * - API gateway: every cluster that calls the gateway → every cluster the gateway reaches (through
 *   a load balancer: its targets). Gateway routes carry traffic in every interval, so every client
 *   shares a window with every backend and apportioning yields exactly this product.
 */
export function fleetTruth(fleet: Fleet): FleetTruth {
  const clusterEdges = new EdgeSet();
  const gatewayVia = nodeId('app', fleet.gateway.name);
  const gatewayClients: SimCluster[] = [];
  const gatewayBackends: { cluster: SimCluster; via: NodeId[] }[] = [];
  const intermediaries = new Set<NodeId>();

  for (const route of fleet.routes) {
    const fromGateway = route.client.app === fleet.gateway;
    if (route.kind === 'direct' && route.server.app === fleet.gateway) {
      if (!gatewayClients.includes(route.client)) gatewayClients.push(route.client);
      intermediaries.add(gatewayVia);
      continue;
    }
    if (fromGateway) {
      for (const { cluster, via } of destinations(route)) gatewayBackends.push({ cluster, via: [gatewayVia, ...via] });
      continue;
    }
    switch (route.kind) {
      case 'direct':
      case 'balanced':
        for (const { cluster, via } of destinations(route)) {
          clusterEdges.add(clusterNode(route.client), clusterNode(cluster), via);
          for (const v of via) intermediaries.add(v);
        }
        break;
      case 'external': {
        const nat = nodeId('intermediary', route.nat.id);
        clusterEdges.add(clusterNode(route.client), nodeId('external', route.external.name), [nat]);
        intermediaries.add(nat);
        break;
      }
    }
  }
  for (const client of gatewayClients) {
    for (const backend of gatewayBackends) {
      clusterEdges.add(clusterNode(client), clusterNode(backend.cluster), backend.via);
      for (const v of backend.via) intermediaries.add(v);
    }
  }

  const appOfCluster = new Map<NodeId, NodeId>(fleet.clusters.map((c) => [clusterNode(c), nodeId('app', c.app.name)]));
  const appNode = (id: NodeId): NodeId => appOfCluster.get(id) ?? id;
  const appEdges = new EdgeSet();
  for (const edge of clusterEdges.edges()) {
    for (const via of edge.vias) appEdges.add(appNode(edge.src), appNode(edge.dst), via);
  }

  const reassignments = fleet.reassignments.map(
    (r): TruthReassignment => ({
      ip: r.ip,
      region: r.region,
      fromCluster: r.previous.cluster.name,
      fromInstance: r.previous.id,
      untilMs: r.previous.diedMs,
      toCluster: r.next.cluster.name,
      toInstance: r.next.id,
      sinceMs: r.next.bornMs,
      sameInterval: r.sameInterval,
    }),
  );
  return {
    seed: fleet.config.seed,
    startMs: fleet.startMs,
    endMs: fleet.endMs,
    appEdges: appEdges.edges(),
    clusterEdges: clusterEdges.edges(),
    expectedIntermediaries: [...intermediaries].sort(),
    reassignedIps: [...new Set(reassignments.map((r) => r.ip))].sort(),
    reassignments,
  };
}

function destinations(route: Route): { cluster: SimCluster; via: NodeId[] }[] {
  switch (route.kind) {
    case 'direct':
      return [{ cluster: route.server, via: [] }];
    case 'balanced':
      return listenerTargets(route.listener);
    case 'external':
      return [];
  }
}

function listenerTargets(listener: LbListener): { cluster: SimCluster; via: NodeId[] }[] {
  const via = [nodeId('intermediary', listener.loadBalancer.id)];
  return listener.targets.map((cluster) => ({ cluster, via }));
}

function clusterNode(cluster: SimCluster): NodeId {
  return nodeId('cluster', cluster.name);
}

/** Edges keyed by (src, dst), each with its distinct via paths; listed in a stable order. */
class EdgeSet {
  private readonly byKey = new Map<string, { src: NodeId; dst: NodeId; vias: Map<string, NodeId[]> }>();

  add(src: NodeId, dst: NodeId, via: NodeId[]): void {
    const key = `${src} ${dst}`;
    let edge = this.byKey.get(key);
    if (!edge) {
      edge = { src, dst, vias: new Map() };
      this.byKey.set(key, edge);
    }
    edge.vias.set(via.join(' '), via);
  }

  edges(): TruthEdge[] {
    return [...this.byKey.values()]
      .map((e) => ({ src: e.src, dst: e.dst, vias: [...e.vias.entries()].sort(([a], [b]) => compare(a, b)).map(([, v]) => v) }))
      .sort((a, b) => compare(a.src, b.src) || compare(a.dst, b.dst));
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
