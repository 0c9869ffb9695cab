import type { WorkloadIdentity } from '@topology/model';
import { resolveConfig, SimulationConfig } from './config';
import { AppNamer, GATEWAY_APP } from './names';
import { Random } from './random';

/**
 * The static shape of a simulated fleet: apps in layers, their clusters and instances (with the
 * lifetimes that make addresses change hands), load balancers, NAT gateways, external services and
 * the cluster-level routes traffic takes. Traffic (traffic.ts) and ground truth (truth.ts) are both
 * read from this plan.
 */

export const REGIONS = ['us-east-1', 'eu-west-1'] as const;
export type Region = (typeof REGIONS)[number];

const REGION_NET: Record<Region, string> = { 'us-east-1': '10.0', 'eu-west-1': '10.64' };
const REGION_SHORT: Record<Region, string> = { 'us-east-1': 'use1', 'eu-west-1': 'euw1' };
/** Detail of an app's prod cluster outside its home region (`checkout-prod-eu-v012`). */
const REGION_DETAIL: Record<Region, string> = { 'us-east-1': 'us', 'eu-west-1': 'eu' };
const ZONES = ['a', 'b', 'c'] as const;

export type Layer = 'edge' | 'gateway' | 'mid' | 'data';
export type Stack = 'prod' | 'test';

export interface SimApp {
  name: string;
  layer: Layer;
  /** Position in the call DAG: edge 0, gateway and its backends 1, deeper mid-tier 2..4, data 5. */
  depth: number;
  domain: string;
  owner: string;
  tier: string;
  account: string;
  homeRegion: Region;
  /** Port the app's instances listen on. */
  port: number;
  /** Zipf weight: how much callers favour this app. */
  popularity: number;
  /** Median bytes of one request connection, client → server and back. */
  requestBytes: number;
  responseBytes: number;
  clusters: SimCluster[];
  loadBalancer?: LoadBalancer;
}

export interface SimCluster {
  name: string;
  app: SimApp;
  stack: Stack;
  canary: boolean;
  region: Region;
  instances: SimInstance[];
}

export interface SimInstance {
  id: string;
  ip: string;
  zone: string;
  cluster: SimCluster;
  /** What the host agent reports as itself; shared by all its records (treat as immutable). */
  identity: WorkloadIdentity;
  /** The instance owns `ip` over [bornMs, diedMs). */
  bornMs: number;
  diedMs: number;
}

export interface LoadBalancer {
  id: string;
  name: string;
  app: SimApp;
  region: Region;
  account: string;
  /** One address per zone it is enabled in. */
  ips: string[];
  listeners: LbListener[];
  /** Whether metadata announces the listeners (only needed, and only done, when there are two). */
  listenersAnnounced: boolean;
}

export interface LbListener {
  /** Position in `Fleet.listeners`. */
  index: number;
  loadBalancer: LoadBalancer;
  port: number;
  targets: SimCluster[];
  /** Share of the listener's traffic each target gets, parallel to `targets`. */
  weights: number[];
}

export interface NatGateway {
  id: string;
  name: string;
  region: Region;
  ip: string;
  interfaceId: string;
  account: string;
}

export interface ExternalService {
  name: string;
  cidr: string;
  ips: string[];
  port: number;
  /** Median round-trip time from the fleet, microseconds. */
  rttUs: number;
}

interface RouteBase {
  index: number;
  client: SimCluster;
  /** Pooled routes keep long-lived connections open, so they carry traffic in every interval. */
  pooled: boolean;
  poolSize: number;
  /** Mean new short connections per interval (request routes). */
  rate: number;
  requestBytes: number;
  responseBytes: number;
}

/** Workload to workload: both hosts report the connection. */
export interface DirectRoute extends RouteBase {
  kind: 'direct';
  server: SimCluster;
  port: number;
}

/** Workload to a load balancer listener; the balancer opens its own connections to the targets. */
export interface BalancedRoute extends RouteBase {
  kind: 'balanced';
  listener: LbListener;
}

/** Workload to an external service through the NAT gateway of the client's region. */
export interface ExternalRoute extends RouteBase {
  kind: 'external';
  external: ExternalService;
  nat: NatGateway;
}

export type Route = DirectRoute | BalancedRoute | ExternalRoute;

/** An address that changed hands: `previous` was terminated, and `next` (another app) got it later. */
export interface IpReassignment {
  ip: string;
  region: Region;
  previous: SimInstance;
  next: SimInstance;
  gapMs: number;
  /** The handover (death and rebirth) falls inside one reporting interval. */
  sameInterval: boolean;
}

export interface Fleet {
  config: SimulationConfig;
  startMs: number;
  endMs: number;
  intervals: number;
  apps: SimApp[];
  gateway: SimApp;
  clusters: SimCluster[];
  instances: SimInstance[];
  loadBalancers: LoadBalancer[];
  listeners: LbListener[];
  natGateways: NatGateway[];
  externals: ExternalService[];
  routes: Route[];
  reassignments: IpReassignment[];
  /** Account of the shared network resources (NAT gateways). */
  networkAccount: string;
}

const EXTERNAL_SERVICES: readonly { name: string; cidr: string; rttUs: number }[] = [
  // Documentation ranges (RFC 5737): realistic-looking public addresses that belong to nobody.
  { name: 'payments-psp', cidr: '203.0.113.0/26', rttUs: 18_000 },
  { name: 'sms-provider', cidr: '203.0.113.64/26', rttUs: 35_000 },
  { name: 'maps-api', cidr: '198.51.100.0/25', rttUs: 9_000 },
  { name: 'email-delivery', cidr: '198.51.100.128/25', rttUs: 22_000 },
  { name: 'tax-rates', cidr: '192.0.2.0/26', rttUs: 40_000 },
  { name: 'identity-verification', cidr: '192.0.2.64/26', rttUs: 28_000 },
  { name: 'shipping-carrier', cidr: '192.0.2.128/25', rttUs: 31_000 },
];

const DATA_PORTS: readonly [string, number][] = [
  ['db', 5432],
  ['cache', 6379],
  ['kv', 6379],
  ['queue', 9092],
  ['stream', 9092],
  ['index', 9200],
  ['store', 9042],
  ['archive', 8080],
];
const MID_PORTS = [8080, 8080, 8443, 50051, 9090];
const LB_PORT = 443;
const LB_SECOND_PORT = 8443;
/** Mean new request connections per interval over the whole fleet at scale 1. */
const REQUEST_CONNECTIONS_PER_INTERVAL = 900;

export function planFleet(overrides: Partial<SimulationConfig> = {}): Fleet {
  const config = resolveConfig(overrides);
  return new FleetPlanner(config).plan();
}

class FleetPlanner {
  private readonly random: Random;
  private readonly startMs: number;
  private readonly endMs: number;
  private readonly intervals: number;
  private readonly usedIps = new Set<string>();
  private readonly intermediaryIps: Record<Region, number> = { 'us-east-1': 0, 'eu-west-1': 0 };
  private readonly instances: SimInstance[] = [];

  constructor(private readonly config: SimulationConfig) {
    this.random = new Random(config.seed).fork('fleet');
    this.startMs = config.startMs;
    this.endMs = config.startMs + config.minutes * 60_000;
    this.intervals = (config.minutes * 60_000) / config.intervalMs;
  }

  plan(): Fleet {
    const r = this.random;
    const accounts = Array.from({ length: 4 }, () => this.accountId());
    const networkAccount = this.accountId();
    const apps = this.apps(accounts);
    const gateway = apps.find((a) => a.layer === 'gateway');
    if (!gateway) throw new Error('the fleet has no gateway');
    const clusters = apps.flatMap((a) => a.clusters);
    const externals = this.externals();
    const { calls, externalCalls } = this.dependencies(apps, gateway, externals);
    const loadBalancers = this.loadBalancers(apps, calls);
    const listeners = loadBalancers.flatMap((lb) => lb.listeners);
    listeners.forEach((l, i) => (l.index = i));
    const natGateways = REGIONS.map((region): NatGateway => ({
      id: `nat-${REGION_SHORT[region]}`,
      name: `egress-${region}`,
      region,
      ip: this.intermediaryIp(region),
      interfaceId: `eni-0${r.hex(16)}`,
      account: networkAccount,
    }));
    const routes = this.routes(apps, calls, externalCalls, natGateways);
    const reassignments = this.churn(clusters, routes);
    return {
      config: this.config,
      startMs: this.startMs,
      endMs: this.endMs,
      intervals: this.intervals,
      apps,
      gateway,
      clusters,
      instances: this.instances,
      loadBalancers,
      listeners,
      natGateways,
      externals,
      routes,
      reassignments,
      networkAccount,
    };
  }

  private apps(accounts: string[]): SimApp[] {
    const r = this.random;
    const n = this.config.apps;
    const edgeCount = Math.max(2, Math.round(n * 0.065));
    const dataCount = Math.max(3, Math.round(n * 0.27));
    const midCount = n - 1 - edgeCount - dataCount;
    const d1 = Math.max(2, Math.round(midCount * 0.17));
    const d2 = Math.max(1, Math.round(midCount * 0.28));
    const d3 = Math.max(1, Math.round(midCount * 0.3));
    const depthSizes = [d1, d2, d3, Math.max(0, midCount - d1 - d2 - d3)];

    const namer = new AppNamer(r.fork('names'));
    const accountOf = (domain: string): string => accounts[Math.abs(hashString(domain)) % accounts.length] ?? '';

    // Equal thirds of 2, 3 and 4 clusters per app: about three per app, whatever the seed.
    const clusterCounts = r.shuffle(Array.from({ length: n - 1 }, (_, i) => 2 + (i % 3)));
    let nextCount = 0;
    const apps: SimApp[] = [];
    const add = (name: string, domain: string, layer: Layer, depth: number, clusterCount: number, homeRegion: Region): SimApp => {
      const app: SimApp = {
        name,
        layer,
        depth,
        domain,
        owner: layer === 'gateway' ? 'platform-edge' : namer.owner(domain),
        tier: 'tier-2',
        account: accountOf(domain),
        homeRegion,
        port: this.portFor(name, layer),
        popularity: 1,
        requestBytes: layer === 'data' ? r.logNormal(700, 0.5) : r.logNormal(2_500, 0.5),
        responseBytes: layer === 'data' ? r.logNormal(12_000, 1.0) : r.logNormal(9_000, 0.8),
        clusters: [],
      };
      app.clusters = this.clustersOf(app, clusterCount);
      apps.push(app);
      return app;
    };
    const region = (): Region => (r.chance(0.7) ? 'us-east-1' : 'eu-west-1');
    const count = (): number => clusterCounts[nextCount++] ?? 3;

    for (const { name, domain } of namer.edge(edgeCount)) add(name, domain, 'edge', 0, count(), region());
    add(GATEWAY_APP, 'platform', 'gateway', 1, 4, 'us-east-1');
    depthSizes.forEach((size, i) => {
      for (const { name, domain } of namer.mid(size)) add(name, domain, 'mid', i + 1, count(), region());
    });
    for (const { name, domain } of namer.data(dataCount)) add(name, domain, 'data', 5, count(), region());

    // Zipf popularity within each layer, by a random rank.
    for (const layer of ['edge', 'mid', 'data'] as const) {
      const members = r.shuffle(apps.filter((a) => a.layer === layer));
      members.forEach((a, rank) => (a.popularity = 1 / Math.pow(rank + 1, 1.1)));
      members.forEach((a, rank) => (a.tier = this.tierFor(a, rank / members.length)));
    }
    const gateway = apps.find((a) => a.layer === 'gateway');
    if (gateway) gateway.tier = 'tier-0';
    return apps;
  }

  private tierFor(app: SimApp, rankShare: number): string {
    if (app.layer === 'edge') return 'tier-1';
    if (app.layer === 'data') return rankShare < 0.3 ? 'tier-0' : 'tier-1';
    if (app.depth === 1) return rankShare < 0.2 ? 'tier-0' : 'tier-1';
    return rankShare < 0.15 ? 'tier-1' : rankShare < 0.6 ? 'tier-2' : 'tier-3';
  }

  private portFor(name: string, layer: Layer): number {
    if (layer === 'edge') return 8080;
    if (layer === 'gateway') return 8443;
    if (layer === 'data') {
      for (const [suffix, port] of DATA_PORTS) if (name.endsWith(suffix)) return port;
      return 8080;
    }
    return this.random.pick(MID_PORTS);
  }

  private clustersOf(app: SimApp, count: number): SimCluster[] {
    const r = this.random;
    const version = r.int(1, 400);
    const other: Region = app.homeRegion === 'us-east-1' ? 'eu-west-1' : 'us-east-1';
    const specs: { name: string; stack: Stack; canary: boolean; region: Region; size: number }[] = [
      { name: `${app.name}-prod-v${pad3(version)}`, stack: 'prod', canary: false, region: app.homeRegion, size: r.int(3, 7) },
    ];
    if (count >= 3) specs.push({ name: `${app.name}-prod-canary-v${pad3(version + 1)}`, stack: 'prod', canary: true, region: app.homeRegion, size: 2 });
    // The gateway has no test stage: one intermediary for the whole app would mix test and prod.
    if (app.layer !== 'gateway') specs.push({ name: `${app.name}-test-v${pad3(r.int(1, 60))}`, stack: 'test', canary: false, region: app.homeRegion, size: 2 });
    if (count >= 4) specs.push({ name: `${app.name}-prod-${REGION_DETAIL[other]}-v${pad3(version)}`, stack: 'prod', canary: false, region: other, size: r.int(2, 5) });
    return specs.map((s) => {
      const cluster: SimCluster = { name: s.name, app, stack: s.stack, canary: s.canary, region: s.region, instances: [] };
      for (let i = 0; i < s.size; i++) {
        const zone = `${s.region}${ZONES[i % ZONES.length]}`;
        this.addInstance(cluster, this.workloadIp(s.region, zone), zone, this.startMs - r.int(3_600_000, 30 * 86_400_000));
      }
      return cluster;
    });
  }

  private addInstance(cluster: SimCluster, ip: string, zone: string, bornMs: number): SimInstance {
    const id = `i-0${this.random.hex(16)}`;
    const instance: SimInstance = {
      id,
      ip,
      zone,
      cluster,
      identity: { app: cluster.app.name, cluster: cluster.name, instance: id, account: cluster.app.account, region: cluster.region, zone },
      bornMs,
      diedMs: Number.POSITIVE_INFINITY,
    };
    cluster.instances.push(instance);
    this.instances.push(instance);
    return instance;
  }

  /** A fresh private address in the zone's /18 of the region's VPC, never handed out before. */
  private workloadIp(region: Region, zone: string): string {
    const zoneIndex = ZONES.indexOf(zone.slice(-1) as (typeof ZONES)[number]);
    for (;;) {
      const third = zoneIndex * 64 + this.random.int(0, 64);
      const fourth = this.random.int(4, 255);
      const ip = `${REGION_NET[region]}.${third}.${fourth}`;
      if (!this.usedIps.has(ip)) {
        this.usedIps.add(ip);
        return ip;
      }
    }
  }

  /** Intermediaries live in 10.x.240.0/20, a block no workload address comes from. */
  private intermediaryIp(region: Region): string {
    const n = this.intermediaryIps[region]++;
    return `${REGION_NET[region]}.${240 + Math.floor(n / 240)}.${10 + (n % 240)}`;
  }

  private accountId(): string {
    return String(this.random.int(100_000, 1_000_000)) + String(this.random.int(100_000, 1_000_000));
  }

  private externals(): ExternalService[] {
    return EXTERNAL_SERVICES.map((e) => {
      const [base, bits] = e.cidr.split('/');
      const size = 2 ** (32 - Number(bits));
      const baseInt = ipToInt(base ?? '');
      const offsets = new Set<number>();
      while (offsets.size < 3) offsets.add(this.random.int(1, size - 1));
      return { name: e.name, cidr: e.cidr, ips: [...offsets].map((o) => intToIp(baseInt + o)), port: 443, rttUs: e.rttUs };
    });
  }

  /** App-level calls: a layered DAG, callees drawn by Zipf popularity. */
  private dependencies(apps: SimApp[], gateway: SimApp, externals: ExternalService[]) {
    const r = this.random.fork('dependencies');
    const calls = new Map<SimApp, SimApp[]>();
    const externalCalls = new Map<SimApp, ExternalService[]>();
    const mids = apps.filter((a) => a.layer === 'mid');
    const data = apps.filter((a) => a.layer === 'data');
    const externalWeights = externals.map((_, i) => 1 / (i + 1));
    const addCall = (caller: SimApp, callee: SimApp): void => {
      const list = calls.get(caller) ?? [];
      if (!list.includes(callee)) list.push(callee);
      calls.set(caller, list);
    };

    for (const app of apps) {
      if (app.layer === 'edge') {
        addCall(app, gateway);
        if (r.chance(0.3)) externalCalls.set(app, [externals[r.weightedIndex(externalWeights)] as ExternalService]);
      } else if (app.layer === 'gateway') {
        for (const m of mids) if (m.depth === 1) addCall(app, m);
      } else if (app.layer === 'mid') {
        const deeper = mids.filter((m) => m.depth > app.depth);
        const midFanOut = app.depth < 4 ? Math.min(deeper.length, 1 + r.poisson(2.0)) : 0;
        for (const callee of zipfSample(r, deeper, midFanOut)) addCall(app, callee);
        for (const callee of zipfSample(r, data, Math.min(data.length, r.chance(0.45) ? 2 : 1))) addCall(app, callee);
        if (r.chance(0.12)) externalCalls.set(app, [externals[r.weightedIndex(externalWeights)] as ExternalService]);
      }
    }
    // Nobody deploys a service nothing calls: give every orphan a caller from a layer above.
    const called = new Set([...calls.values()].flat());
    for (const app of [...mids, ...data]) {
      if (called.has(app)) continue;
      const callers = app.layer === 'mid' ? mids.filter((m) => m.depth < app.depth) : mids;
      if (callers.length > 0) addCall(r.pick(callers), app);
    }
    return { calls, externalCalls };
  }

  private loadBalancers(apps: SimApp[], calls: Map<SimApp, SimApp[]>): LoadBalancer[] {
    const r = this.random.fork('load-balancers');
    const callersOf = new Map<SimApp, SimApp[]>();
    for (const [caller, callees] of calls) for (const callee of callees) callersOf.set(callee, [...(callersOf.get(callee) ?? []), caller]);
    // A balancer in the app's home region is only worth simulating when some prod caller reaches it.
    const candidates = apps.filter(
      (a) =>
        (a.layer === 'mid' || a.layer === 'data') &&
        (callersOf.get(a) ?? []).some((c) => c.clusters.some((k) => k.stack === 'prod' && k.region === a.homeRegion)),
    );
    const wanted = Math.min(this.config.loadBalancers, candidates.length);
    // A couple of the gateway's backends sit behind balancers, so gateway → balancer chains exist.
    const behindGateway = zipfSample(r, candidates.filter((a) => a.depth === 1), Math.min(2, wanted));
    const chosen = [...behindGateway, ...zipfSample(r, candidates.filter((a) => a.depth !== 1), wanted - behindGateway.length)];
    const withSecondListener = Math.ceil(chosen.length * 0.4);
    return chosen.map((app, i) => {
      const lb: LoadBalancer = {
        id: `lb-${app.name}-${REGION_SHORT[app.homeRegion]}`,
        name: `${app.name}-alb`,
        app,
        region: app.homeRegion,
        account: app.account,
        ips: [this.intermediaryIp(app.homeRegion), this.intermediaryIp(app.homeRegion)],
        listeners: [],
        listenersAnnounced: false,
      };
      const home = app.clusters.filter((c) => c.stack === 'prod' && c.region === app.homeRegion);
      lb.listeners.push({ index: 0, loadBalancer: lb, port: LB_PORT, targets: home, weights: home.map((c) => (c.canary ? 0.1 : 1)) });
      const test = app.clusters.find((c) => c.stack === 'test');
      if (i < withSecondListener && test) {
        lb.listeners.push({ index: 0, loadBalancer: lb, port: LB_SECOND_PORT, targets: [test], weights: [1] });
        lb.listenersAnnounced = true;
      }
      app.loadBalancer = lb;
      return lb;
    });
  }

  private routes(apps: SimApp[], calls: Map<SimApp, SimApp[]>, externalCalls: Map<SimApp, ExternalService[]>, nats: NatGateway[]): Route[] {
    const r = this.random.fork('routes');
    const routes: Route[] = [];
    const base = (client: SimCluster, callee: SimApp | undefined, weight: number): RouteBase => {
      const gatewayRoute = client.app.layer === 'gateway' || callee?.layer === 'gateway';
      const pooled = gatewayRoute || (callee?.layer === 'data' && client.stack === 'prod');
      const envWeight = client.stack === 'test' ? 0.15 : client.canary ? 0.2 : 1;
      return {
        index: routes.length,
        client,
        pooled,
        poolSize: pooled ? 1 + (r.chance(0.35) ? 1 : 0) : 0,
        rate: pooled ? 0 : envWeight * weight * Math.sqrt(callee?.popularity ?? 0.3),
        requestBytes: (callee?.requestBytes ?? 1_500) * r.logNormal(1, 0.3),
        responseBytes: (callee?.responseBytes ?? 6_000) * r.logNormal(1, 0.3),
      };
    };
    for (const caller of apps) {
      for (const client of caller.clusters) {
        for (const callee of calls.get(caller) ?? []) {
          const lb = callee.loadBalancer;
          const sameRegionProd = callee.clusters.filter((c) => c.stack === 'prod' && c.region === client.region);
          let listener: LbListener | undefined;
          let servers: SimCluster[] = [];
          if (client.stack === 'test') {
            listener = lb?.listeners.find((l) => l.port === LB_SECOND_PORT);
            if (!listener) servers = callee.clusters.filter((c) => c.stack === 'test');
          } else if (lb && (client.region === lb.region || sameRegionProd.length === 0)) {
            listener = lb.listeners[0];
          } else {
            servers = sameRegionProd.length > 0 ? sameRegionProd : callee.clusters.filter((c) => c.stack === 'prod' && c.region === callee.homeRegion);
          }
          if (listener) {
            routes.push({ ...base(client, callee, 1), kind: 'balanced', listener });
            continue;
          }
          for (const server of servers) {
            routes.push({ ...base(client, callee, server.canary ? 0.1 : 1), kind: 'direct', server, port: callee.port });
          }
        }
        for (const external of externalCalls.get(caller) ?? []) {
          const nat = nats.find((n) => n.region === client.region);
          if (!nat) continue;
          routes.push({ ...base(client, undefined, 0.8), kind: 'external', external, nat });
        }
      }
    }
    let total = 0;
    for (const route of routes) total += route.rate;
    const perWeight = total > 0 ? (REQUEST_CONNECTIONS_PER_INTERVAL * this.config.scale * (this.config.apps / 220)) / total : 0;
    for (const route of routes) route.rate *= perWeight;
    return routes;
  }

  /**
   * Terminates a share of the instances during the run. Each gets a replacement in its own cluster
   * (with a fresh address), and its address goes, after a gap, to a new instance of another app in
   * the same region; half of the handovers happen inside one reporting interval.
   */
  private churn(clusters: SimCluster[], routes: Route[]): IpReassignment[] {
    const r = this.random.fork('churn');
    const interval = this.config.intervalMs;
    const calledDirectly = new Set<SimCluster>();
    for (const route of routes) if (route.kind === 'direct') calledDirectly.add(route.server);
    // Victims come from clusters whose addresses clients dial (so the handover is visible), and
    // that keep another instance alive meanwhile.
    const victimClusters = r.shuffle(clusters.filter((c) => calledDirectly.has(c) && c.instances.length >= 2));
    const wanted = Math.round(this.instances.length * this.config.churnShare);
    const firstInterval = 1;
    const lastInterval = this.intervals - 3;
    if (lastInterval < firstInterval) return [];
    const reassignments: IpReassignment[] = [];
    for (const cluster of victimClusters.slice(0, wanted)) {
      const heirs = [...calledDirectly].filter((c) => c.region === cluster.region && c.app !== cluster.app);
      if (heirs.length === 0) continue;
      const heir = heirs[r.int(0, heirs.length)] as SimCluster;
      const original = cluster.instances.filter((i) => i.bornMs < this.startMs);
      const victim = original[r.int(0, original.length)] as SimInstance;
      const deathInterval = r.int(firstInterval, lastInterval + 1);
      const sameInterval = reassignments.length % 2 === 0;
      const deathMs = this.startMs + deathInterval * interval + r.int(Math.round(interval * 0.2), Math.round(interval * (sameInterval ? 0.4 : 0.8)));
      let rebirthMs: number;
      if (sameInterval) {
        rebirthMs = deathMs + r.int(Math.round(interval * 0.15), Math.round(interval * 0.35));
      } else {
        const rebirthInterval = Math.min(this.intervals - 1, deathInterval + r.int(1, 7));
        rebirthMs = this.startMs + rebirthInterval * interval + r.int(Math.round(interval * 0.05), Math.round(interval * 0.8));
      }
      victim.diedMs = deathMs;
      this.addInstance(cluster, this.workloadIp(cluster.region, victim.zone), victim.zone, deathMs + r.int(2_000, 15_000));
      const next = this.addInstance(heir, victim.ip, victim.zone, rebirthMs);
      reassignments.push({ ip: victim.ip, region: cluster.region, previous: victim, next, gapMs: rebirthMs - deathMs, sameInterval });
    }
    return reassignments;
  }
}

/** Draws `count` distinct items, each with probability proportional to its popularity. */
function zipfSample(r: Random, items: readonly SimApp[], count: number): SimApp[] {
  const pool = [...items];
  const weights = pool.map((a) => a.popularity);
  const out: SimApp[] = [];
  while (out.length < count && pool.length > 0) {
    const i = r.weightedIndex(weights);
    out.push(pool[i] as SimApp);
    pool.splice(i, 1);
    weights.splice(i, 1);
  }
  return out;
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

function pad3(n: number): string {
  return String(n).padStart(3, '0');
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

export function intToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
