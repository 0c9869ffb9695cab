import { parseClusterName } from '@topology/model';
import { ExternalRanges, parseNatLine, ReportedOwnership, SimulationOutput } from './read-simulation';

/**
 * Test support: the dependencies a correct pipeline can know from a simulation's output, derived
 * with the agreed semantics (attribution by time, per-window apportioning at intermediaries,
 * listener narrowing, NAT views giving the via) but none of the pipeline's code and none of the
 * simulator's plan. Comparing this with the simulator's truth checks that the truth is exactly what
 * the records show.
 */

export interface DerivedEdge {
  src: string;
  dst: string;
  vias: string[][];
}

export interface DerivedDependencies {
  clusterEdges: DerivedEdge[];
  appEdges: DerivedEdge[];
  /** Remote addresses no owner, intermediary or external range explains (must stay empty). */
  unattributed: string[];
}

export function deriveDependencies(output: SimulationOutput, windowMs: number): DerivedDependencies {
  const ownership = new ReportedOwnership(output.flows);
  const externals = new ExternalRanges(output.metadata);
  const balancerOf = new Map<string, string>();
  const natOf = new Map<string, string>();
  const listeners = new Map<string, Set<string>>();
  const announced = new Set<string>();
  const gatewayApps = new Set<string>();
  for (const e of output.metadata) {
    if ('ipAssignment' in e) {
      const a = e.ipAssignment;
      (a.type === 'nat-gateway' ? natOf : balancerOf).set(a.ip, a.intermediaryId);
    } else if ('listener' in e) {
      listeners.set(`${e.listener.intermediaryId}|${e.listener.port}`, new Set(e.listener.targetClusters));
      announced.add(e.listener.intermediaryId);
    } else if ('app' in e && e.app.intermediaryType) {
      gatewayApps.add(e.app.app);
    }
  }
  const appOf = (cluster: string): string => parseClusterName(cluster).app;
  const windowOf = (t: number): number => Math.floor(t / windowMs);

  const edges = new Edges();
  const unattributed: string[] = [];
  // Per window: balancer → inbound (client cluster, port), balancer → backend clusters.
  const balancerIn = new Map<string, Set<string>>();
  const balancerOut = new Map<string, Set<string>>();
  const gatewayIn = new Map<number, Map<string, Set<string>>>();
  const gatewayOut = new Map<number, Map<string, Set<string>>>();
  const gatewayOutToBalancer = new Map<number, Map<string, Set<string>>>();
  const externalCalls: { w: number; src: string; external: string; clientIp: string; externalIp: string }[] = [];
  const add = (m: Map<string, Set<string>>, key: string, value: string): void => {
    const s = m.get(key) ?? new Set<string>();
    s.add(value);
    m.set(key, s);
  };
  const addW = (m: Map<number, Map<string, Set<string>>>, w: number, key: string, value: string): void => {
    const inner = m.get(w) ?? new Map<string, Set<string>>();
    add(inner, key, value);
    m.set(w, inner);
  };

  for (const f of output.flows) {
    const w = windowOf(f.startMs);
    const self = f.localIdentity.cluster;
    const balancer = balancerOf.get(f.remote.ip);
    if (f.role === 'server') {
      if (balancer) add(balancerOut, `${w}|${balancer}`, self);
      continue;
    }
    const selfIsGateway = gatewayApps.has(appOf(self));
    if (balancer) {
      if (selfIsGateway) addW(gatewayOutToBalancer, w, appOf(self), `${balancer}|${f.remote.port}`);
      else add(balancerIn, `${w}|${balancer}`, `${self}|${f.remote.port}`);
      continue;
    }
    const owners = ownership.ownersAt(f.remote.ip, f.startMs);
    if (owners.length === 1) {
      const dst = (owners[0] as { cluster: string }).cluster;
      if (gatewayApps.has(appOf(dst))) addW(gatewayIn, w, appOf(dst), self);
      else if (selfIsGateway) addW(gatewayOut, w, appOf(self), dst);
      else edges.add(`cluster:${self}`, `cluster:${dst}`, []);
      continue;
    }
    const external = externals.nameOf(f.remote.ip);
    if (owners.length === 0 && external) {
      externalCalls.push({ w, src: self, external, clientIp: f.local.ip, externalIp: f.remote.ip });
      continue;
    }
    unattributed.push(`${f.remote.ip}@${f.startMs}`);
  }

  // The NAT interface's view of client → external traffic gives those calls their via.
  const natViews = new Map<string, string>();
  for (const line of output.natFlowLog) {
    const n = parseNatLine(line);
    const nat = natOf.get(n.dstaddr);
    if (!nat || n.direction !== 'ingress' || n.pktDstaddr === n.dstaddr) continue;
    const owners = ownership.ownersAt(n.pktSrcaddr, n.startS * 1000);
    if (owners.length !== 1) {
      unattributed.push(`${n.pktSrcaddr}@${n.startS * 1000} (NAT log)`);
      continue;
    }
    natViews.set(`${windowOf(n.startS * 1000)}|${(owners[0] as { cluster: string }).cluster}|${n.pktDstaddr}`, nat);
  }
  for (const c of externalCalls) {
    const nat = natViews.get(`${c.w}|${c.src}|${c.externalIp}`);
    edges.add(`cluster:${c.src}`, `external:${c.external}`, nat ? [`intermediary:${nat}`] : []);
  }

  const targetsOf = (w: number, balancer: string, port: string): string[] => {
    const out = [...(balancerOut.get(`${w}|${balancer}`) ?? [])];
    const listener = announced.has(balancer) ? listeners.get(`${balancer}|${port}`) : undefined;
    const narrowed = listener ? out.filter((b) => listener.has(b)) : out;
    return narrowed.length > 0 ? narrowed : out;
  };
  for (const [key, clients] of balancerIn) {
    const [w, balancer] = key.split('|') as [string, string];
    for (const client of clients) {
      const [src, port] = client.split('|') as [string, string];
      for (const b of targetsOf(Number(w), balancer, port)) edges.add(`cluster:${src}`, `cluster:${b}`, [`intermediary:${balancer}`]);
    }
  }
  for (const [w, byGateway] of gatewayIn) {
    for (const [gateway, clients] of byGateway) {
      const via = `app:${gateway}`;
      for (const c of clients) {
        for (const b of gatewayOut.get(w)?.get(gateway) ?? []) edges.add(`cluster:${c}`, `cluster:${b}`, [via]);
        for (const lbPort of gatewayOutToBalancer.get(w)?.get(gateway) ?? []) {
          const [balancer, port] = lbPort.split('|') as [string, string];
          for (const b of targetsOf(w, balancer, port)) edges.add(`cluster:${c}`, `cluster:${b}`, [via, `intermediary:${balancer}`]);
        }
      }
    }
  }

  const clusterEdges = edges.list();
  const appEdges = new Edges();
  const appNode = (id: string): string => (id.startsWith('cluster:') ? `app:${appOf(id.slice('cluster:'.length))}` : id);
  for (const e of clusterEdges) for (const via of e.vias) appEdges.add(appNode(e.src), appNode(e.dst), via);
  return { clusterEdges, appEdges: appEdges.list(), unattributed };
}

class Edges {
  private readonly map = new Map<string, Map<string, string[]>>();

  add(src: string, dst: string, via: string[]): void {
    const key = `${src} ${dst}`;
    const vias = this.map.get(key) ?? new Map<string, string[]>();
    vias.set(via.join(' '), via);
    this.map.set(key, vias);
  }

  list(): DerivedEdge[] {
    return [...this.map.entries()]
      .map(([key, vias]) => {
        const [src, dst] = key.split(' ') as [string, string];
        return { src, dst, vias: [...vias.keys()].sort().map((k) => vias.get(k) ?? []) };
      })
      .sort((a, b) => (a.src < b.src ? -1 : a.src > b.src ? 1 : a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
  }
}
