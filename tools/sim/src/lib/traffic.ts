import type { FlowRecord, MetadataEvent } from '@topology/contracts';
import type { SimulationConfig } from './config';
import { BalancedRoute, DirectRoute, ExternalRoute, Fleet, LbListener, planFleet, Route, SimCluster, SimInstance } from './fleet';
import { fleetMetadata } from './metadata';
import { appendNatFlowLogLines } from './nat-flow-log';
import { Random } from './random';

/** Everything the fleet reported during one reporting interval. */
export interface SimulationBatch {
  /** Position of the interval in the run, from 0. */
  index: number;
  /** The interval: every record here starts inside [startMs, endMs). */
  window: { startMs: number; endMs: number };
  /** Host agent records (FlowRecord), client and server side. */
  flows: FlowRecord[];
  /** VPC flow log lines of the NAT gateways' interfaces, in `NAT_FLOW_LOG_FORMAT`. */
  natFlowLog: string[];
  /** Metadata events: the whole inventory comes with the first batch, later batches have none. */
  metadata: MetadataEvent[];
}

/** Plans a fleet from `config` and yields its traffic, one batch per interval, in time order. */
export function simulateFleet(config: Partial<SimulationConfig> = {}): Generator<SimulationBatch> {
  return generateTraffic(planFleet(config));
}

/**
 * Yields the traffic of a planned fleet. Only the current interval's records are held, so a long or
 * scaled-up run streams in constant memory.
 */
export function* generateTraffic(fleet: Fleet): Generator<SimulationBatch> {
  const generator = new TrafficGenerator(fleet);
  for (let index = 0; index < fleet.intervals; index++) {
    yield generator.interval(index, index === 0 ? fleetMetadata(fleet) : []);
  }
}

/** Shortest short connection, long enough for whole-second NAT log times inside it. */
const MIN_CONNECTION_MS = 1_000;
/** A pooled connection is not reopened closer than this to an interval's end. */
const MIN_SEGMENT_MS = 300;
const SAME_REGION_RTT_US = 450;
const CROSS_REGION_RTT_US = 76_000;
const BYTES_PER_PACKET = 1_200;

interface PooledConnection {
  client: SimInstance;
  /** Absent when the route ends at a load balancer. */
  server: SimInstance | undefined;
  remoteIp: string;
  clientPort: number;
  openMs: number;
  closeMs: number;
}

/** A connection forced at an address handover, so the handover shows in the records. */
interface HandoverConnection {
  route: DirectRoute;
  server: SimInstance;
  startMs: number;
  endMs: number;
}

class TrafficGenerator {
  private readonly random: Random;
  private readonly intervalMs: number;
  private readonly pools: (PooledConnection | undefined)[][];
  private readonly rttUs: number[];
  private readonly listenerConnections: Int32Array;
  private readonly listenerBytesSent: Float64Array;
  private readonly listenerBytesReceived: Float64Array;
  private readonly handovers = new Map<number, HandoverConnection[]>();
  private flows: FlowRecord[] = [];
  private natLines: string[] = [];

  constructor(private readonly fleet: Fleet) {
    this.random = new Random(fleet.config.seed).fork('traffic');
    this.intervalMs = fleet.config.intervalMs;
    this.pools = fleet.routes.map((r) => new Array<PooledConnection | undefined>(r.poolSize).fill(undefined));
    this.rttUs = fleet.routes.map((r) => baseRttUs(r));
    const listeners = fleet.listeners.length;
    this.listenerConnections = new Int32Array(listeners);
    this.listenerBytesSent = new Float64Array(listeners);
    this.listenerBytesReceived = new Float64Array(listeners);
    this.planHandovers();
  }

  interval(index: number, metadata: MetadataEvent[]): SimulationBatch {
    const from = this.fleet.startMs + index * this.intervalMs;
    const to = from + this.intervalMs;
    this.flows = [];
    this.natLines = [];
    this.listenerConnections.fill(0);
    this.listenerBytesSent.fill(0);
    this.listenerBytesReceived.fill(0);

    for (const route of this.fleet.routes) {
      if (route.pooled) {
        for (let slot = 0; slot < route.poolSize; slot++) this.pooledTraffic(route, slot, from, to, index === 0);
        continue;
      }
      let count = this.random.poisson(route.rate);
      // Every route shows up in the first interval, so the whole map is there within seconds.
      if (index === 0 && count === 0) count = 1;
      for (let i = 0; i < count; i++) this.shortConnection(route, from, to);
    }
    for (const h of this.handovers.get(index) ?? []) {
      const client = pickCovering(this.random, h.route.client.instances, h.startMs, h.endMs);
      if (client) this.direct(h.route, client, h.server, this.ephemeralPort(), h.startMs, h.endMs, 1);
    }
    for (const listener of this.fleet.listeners) this.balance(listener, from, to);
    return { index, window: { startMs: from, endMs: to }, flows: this.flows, natFlowLog: this.natLines, metadata };
  }

  /** One slot of a connection pool: keeps a connection open, reopening it when an end goes away. */
  private pooledTraffic(route: Route, slot: number, from: number, to: number, firstInterval: boolean): void {
    const pool = this.pools[route.index] as (PooledConnection | undefined)[];
    let conn = pool[slot];
    let cursor = from;
    for (;;) {
      if (!conn || conn.closeMs < cursor) {
        const openAt = conn ? Math.max(cursor, conn.closeMs + 1 + this.random.int(1, 200)) : cursor;
        if (openAt > to - MIN_SEGMENT_MS) break;
        const opened = this.openPooled(route, openAt, !conn && firstInterval);
        if (!opened) break;
        conn = opened;
      }
      const start = Math.max(conn.openMs, cursor);
      const end = Math.min(conn.closeMs, to - 1);
      const share = (end - start + 1) / this.intervalMs;
      const sent = Math.max(60, Math.round(this.random.logNormal(route.requestBytes * 12, 0.6) * share));
      const received = Math.max(60, Math.round(this.random.logNormal(route.responseBytes * 12, 0.7) * share));
      const connections = conn.openMs >= from ? 1 : 0;
      if (route.kind === 'direct' && conn.server) {
        this.direct(route, conn.client, conn.server, conn.clientPort, start, end, connections, sent, received);
      } else if (route.kind === 'balanced') {
        this.toBalancer(route, conn.client, conn.remoteIp, conn.clientPort, start, end, connections, sent, received);
      }
      if (conn.closeMs > to - 1) break;
      cursor = conn.closeMs + 1;
    }
    pool[slot] = conn;
  }

  private openPooled(route: Route, openAt: number, existedBeforeRun: boolean): PooledConnection | undefined {
    const client = pickAliveAt(this.random, route.client.instances, openAt);
    if (!client) return undefined;
    let server: SimInstance | undefined;
    let remoteIp: string;
    if (route.kind === 'direct') {
      server = pickAliveAt(this.random, route.server.instances, openAt);
      if (!server) return undefined;
      remoteIp = server.ip;
    } else if (route.kind === 'balanced') {
      remoteIp = this.random.pick(route.listener.loadBalancer.ips);
    } else {
      return undefined;
    }
    const maxAgeMs = this.random.int(120_000, 480_000);
    const openMs = existedBeforeRun ? openAt - this.random.int(1, 3_600_000) : openAt;
    const closeMs = Math.min(client.diedMs, server?.diedMs ?? Number.POSITIVE_INFINITY, openAt + maxAgeMs) - 1;
    return { client, server, remoteIp, clientPort: this.ephemeralPort(), openMs, closeMs };
  }

  /** A connection opened and closed inside the interval, between ends alive all along. */
  private shortConnection(route: Route, from: number, to: number): void {
    const client = pickOverlapping(this.random, route.client.instances, from, to);
    if (!client) return;
    let a = Math.max(from, client.bornMs);
    let b = Math.min(to, client.diedMs);
    let server: SimInstance | undefined;
    if (route.kind === 'direct') {
      server = pickOverlapping(this.random, route.server.instances, a, b);
      if (!server) return;
      a = Math.max(a, server.bornMs);
      b = Math.min(b, server.diedMs);
    }
    if (b - a <= MIN_CONNECTION_MS) return;
    const duration = Math.min(b - a - 1, Math.max(MIN_CONNECTION_MS, Math.round(this.random.logNormal(2_500, 0.7))));
    const start = a + this.random.int(0, b - a - duration);
    const end = start + duration;
    const port = this.ephemeralPort();
    switch (route.kind) {
      case 'direct':
        if (server) this.direct(route, client, server, port, start, end, 1);
        break;
      case 'balanced':
        this.toBalancer(route, client, this.random.pick(route.listener.loadBalancer.ips), port, start, end, 1);
        break;
      case 'external':
        this.toExternal(route, client, port, start, end);
        break;
    }
  }

  /** Both hosts report a workload-to-workload connection, over the same times. */
  private direct(
    route: DirectRoute,
    client: SimInstance,
    server: SimInstance,
    clientPort: number,
    start: number,
    end: number,
    connections: number,
    sent = this.requestBytes(route),
    received = this.responseBytes(route),
  ): void {
    const r = this.random;
    const packetsSent = 1 + Math.floor(sent / BYTES_PER_PACKET);
    const packetsReceived = 1 + Math.floor(received / BYTES_PER_PACKET);
    const rtt = this.rttUs[route.index] as number;
    // Both records of a connection share its two endpoint objects.
    const clientEnd = { ip: client.ip, port: clientPort };
    const serverEnd = { ip: server.ip, port: route.port };
    this.flows.push(
      {
        local: clientEnd,
        remote: serverEnd,
        localIdentity: client.identity,
        role: 'client',
        protocol: 'tcp',
        startMs: start,
        endMs: end,
        bytesSent: sent,
        bytesReceived: received,
        packetsSent,
        packetsReceived,
        retransmits: this.retransmits(packetsSent),
        rttUs: Math.round(rtt * (0.85 + 0.3 * r.next())),
        connections,
      },
      {
        local: serverEnd,
        remote: clientEnd,
        localIdentity: server.identity,
        role: 'server',
        protocol: 'tcp',
        startMs: start,
        endMs: end,
        bytesSent: received,
        bytesReceived: sent,
        packetsSent: packetsReceived,
        packetsReceived: packetsSent,
        retransmits: this.retransmits(packetsReceived),
        rttUs: Math.round(rtt * (0.85 + 0.3 * r.next())),
        connections,
      },
    );
  }

  /** Only the client reports a connection to a balancer; the balancer's side comes from `balance`. */
  private toBalancer(
    route: BalancedRoute,
    client: SimInstance,
    balancerIp: string,
    clientPort: number,
    start: number,
    end: number,
    connections: number,
    sent = this.requestBytes(route),
    received = this.responseBytes(route),
  ): void {
    const packetsSent = 1 + Math.floor(sent / BYTES_PER_PACKET);
    this.flows.push({
      local: { ip: client.ip, port: clientPort },
      remote: { ip: balancerIp, port: route.listener.port },
      localIdentity: client.identity,
      role: 'client',
      protocol: 'tcp',
      startMs: start,
      endMs: end,
      bytesSent: sent,
      bytesReceived: received,
      packetsSent,
      packetsReceived: 1 + Math.floor(received / BYTES_PER_PACKET),
      retransmits: this.retransmits(packetsSent),
      rttUs: Math.round((this.rttUs[route.index] as number) * (0.85 + 0.3 * this.random.next())),
      connections,
    });
    const l = route.listener.index;
    this.listenerConnections[l] = (this.listenerConnections[l] as number) + 1;
    this.listenerBytesSent[l] = (this.listenerBytesSent[l] as number) + sent;
    this.listenerBytesReceived[l] = (this.listenerBytesReceived[l] as number) + received;
  }

  /**
   * The balancer's own connections to its targets in this interval: every target of a listener
   * that had clients gets at least one, sharing the clients' bytes by the targets' weights. The
   * backend host reports them with the balancer's address as the remote end.
   */
  private balance(listener: LbListener, from: number, to: number): void {
    const inbound = this.listenerConnections[listener.index] as number;
    if (inbound === 0) return;
    const lb = listener.loadBalancer;
    let totalWeight = 0;
    for (const w of listener.weights) totalWeight += w;
    listener.targets.forEach((target, t) => {
      const share = (listener.weights[t] as number) / totalWeight;
      const count = Math.max(1, Math.round(inbound * share));
      const sentEach = ((this.listenerBytesSent[listener.index] as number) * share) / count;
      const receivedEach = ((this.listenerBytesReceived[listener.index] as number) * share) / count;
      for (let i = 0; i < count; i++) {
        const backend = pickOverlapping(this.random, target.instances, from, to);
        if (!backend) throw new Error(`cluster ${target.name} has no instance alive in [${from}, ${to})`);
        const a = Math.max(from, backend.bornMs);
        const b = Math.min(to, backend.diedMs);
        const duration = Math.min(b - a - 1, Math.max(MIN_CONNECTION_MS, Math.round(this.random.logNormal(2_500, 0.7))));
        const start = a + this.random.int(0, b - a - duration);
        const toBackend = Math.max(1, Math.round(sentEach * (0.9 + 0.2 * this.random.next())));
        const fromBackend = Math.max(1, Math.round(receivedEach * (0.9 + 0.2 * this.random.next())));
        const packetsSent = 1 + Math.floor(fromBackend / BYTES_PER_PACKET);
        this.flows.push({
          local: { ip: backend.ip, port: lb.app.port },
          remote: { ip: this.random.pick(lb.ips), port: this.ephemeralPort() },
          localIdentity: backend.identity,
          role: 'server',
          protocol: 'tcp',
          startMs: start,
          endMs: start + duration,
          bytesSent: fromBackend,
          bytesReceived: toBackend,
          packetsSent,
          packetsReceived: 1 + Math.floor(toBackend / BYTES_PER_PACKET),
          retransmits: this.retransmits(packetsSent),
          rttUs: Math.round(SAME_REGION_RTT_US * (0.85 + 0.3 * this.random.next())),
          connections: 1,
        });
      }
    });
  }

  /** The client sees the external address (NAT is invisible to sockets); the NAT interface logs the rest. */
  private toExternal(route: ExternalRoute, client: SimInstance, clientPort: number, start: number, end: number): void {
    const externalIp = this.random.pick(route.external.ips);
    const sent = this.requestBytes(route);
    const received = this.responseBytes(route);
    const packetsSent = 1 + Math.floor(sent / BYTES_PER_PACKET);
    const packetsReceived = 1 + Math.floor(received / BYTES_PER_PACKET);
    this.flows.push({
      local: { ip: client.ip, port: clientPort },
      remote: { ip: externalIp, port: route.external.port },
      localIdentity: client.identity,
      role: 'client',
      protocol: 'tcp',
      startMs: start,
      endMs: end,
      bytesSent: sent,
      bytesReceived: received,
      packetsSent,
      packetsReceived,
      retransmits: this.retransmits(packetsSent),
      rttUs: Math.round((this.rttUs[route.index] as number) * (0.85 + 0.3 * this.random.next())),
      connections: 1,
    });
    appendNatFlowLogLines(
      {
        account: route.nat.account,
        interfaceId: route.nat.interfaceId,
        natIp: route.nat.ip,
        natPort: this.random.int(1_024, 65_536),
        clientIp: client.ip,
        clientPort,
        externalIp,
        externalPort: route.external.port,
        startMs: start,
        endMs: end,
        bytesSent: sent,
        bytesReceived: received,
        packetsSent,
        packetsReceived,
        opened: true,
        closed: true,
      },
      this.natLines,
    );
  }

  private requestBytes(route: Route): number {
    return Math.max(40, Math.round(this.random.logNormal(route.requestBytes, 1.0)));
  }

  private responseBytes(route: Route): number {
    return Math.max(40, Math.round(this.random.logNormal(route.responseBytes, 1.1)));
  }

  private retransmits(packets: number): number {
    return packets > 20 && this.random.chance(0.03) ? this.random.int(1, 4) : 0;
  }

  private ephemeralPort(): number {
    return this.random.int(32_768, 61_000);
  }

  /**
   * Around each address handover, the dying owner serves one last connection just before it goes
   * and the new owner serves one right after it arrives, so the records show the same address
   * belonging to two apps, often inside one window.
   */
  private planHandovers(): void {
    const random = new Random(this.fleet.config.seed).fork('handovers');
    const inbound = new Map<SimCluster, DirectRoute[]>();
    for (const route of this.fleet.routes) {
      if (route.kind === 'direct') inbound.set(route.server, [...(inbound.get(route.server) ?? []), route]);
    }
    const length = Math.min(1_500, Math.round(this.intervalMs * 0.15));
    const add = (server: SimInstance, startMs: number, endMs: number): void => {
      const routes = inbound.get(server.cluster);
      if (!routes || routes.length === 0) return;
      const index = Math.floor((startMs - this.fleet.startMs) / this.intervalMs);
      if (index < 0 || index >= this.fleet.intervals) return;
      const list = this.handovers.get(index) ?? [];
      list.push({ route: random.pick(routes), server, startMs, endMs });
      this.handovers.set(index, list);
    };
    for (const r of this.fleet.reassignments) {
      add(r.previous, r.previous.diedMs - length, r.previous.diedMs - 1);
      add(r.next, r.next.bornMs, r.next.bornMs + length);
    }
  }
}

function baseRttUs(route: Route): number {
  switch (route.kind) {
    case 'direct':
      return route.client.region === route.server.region ? SAME_REGION_RTT_US : CROSS_REGION_RTT_US;
    case 'balanced':
      return route.client.region === route.listener.loadBalancer.region ? SAME_REGION_RTT_US : CROSS_REGION_RTT_US;
    case 'external':
      return route.external.rttUs;
  }
}

/** An instance whose life overlaps [from, to) by more than a minimal connection, from a random start. */
function pickOverlapping(random: Random, instances: readonly SimInstance[], from: number, to: number): SimInstance | undefined {
  const n = instances.length;
  const first = random.int(0, n);
  for (let j = 0; j < n; j++) {
    const instance = instances[(first + j) % n] as SimInstance;
    if (Math.min(to, instance.diedMs) - Math.max(from, instance.bornMs) > MIN_CONNECTION_MS) return instance;
  }
  return undefined;
}

/** An instance alive at `at` and for a while after. */
function pickAliveAt(random: Random, instances: readonly SimInstance[], at: number): SimInstance | undefined {
  return pickCovering(random, instances, at, at + MIN_SEGMENT_MS);
}

/** An instance alive over the whole of [startMs, endMs]. */
function pickCovering(random: Random, instances: readonly SimInstance[], startMs: number, endMs: number): SimInstance | undefined {
  const n = instances.length;
  const first = random.int(0, n);
  for (let j = 0; j < n; j++) {
    const instance = instances[(first + j) % n] as SimInstance;
    if (instance.bornMs <= startMs && instance.diedMs > endMs) return instance;
  }
  return undefined;
}
