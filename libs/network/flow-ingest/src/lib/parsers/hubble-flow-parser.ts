import type { Rejection } from '@topology/contracts';
import type { CounterSet, WorkloadIdentity } from '@topology/model';
import type { ObservedEnd, ObservedFlow } from '../observed-flow';
import type { FlowParser, FlowParserCounter, ParseResult } from './flow-parser';
import { countRejections, describe, forEachLine, isNameToken, isObject, newFlowParserCounters, payloadText, RecordProblem, rejection } from './flow-parser';
import { normalizeIp } from './ip-address';
import { RecentKeys } from './recent-keys';

type JsonObject = Record<string, unknown>;

export interface HubbleFlowParserOptions {
  /** Region of the Kafka cluster the flows came from. */
  region?: string;
  counters?: CounterSet<FlowParserCounter>;
  /** Connections remembered for de-duplication and reply detection (default 100 000). */
  memorySize?: number;
  /** A connection is remembered this long after its last flow, event time (default 60 s). */
  memoryTtlMs?: number;
}

/** Label keys that name a workload's app, most specific first. */
const APP_LABELS = ['k8s:app=', 'k8s:app.kubernetes.io/name=', 'k8s:k8s-app='] as const;
/** Characters Kubernetes uses for generated name suffixes (no vowels, no look-alikes). */
const GENERATED = /^[bcdfghjklmnpqrstvwxz2456789]+$/;
const DIGITS = /^\d+$/;

/**
 * Cilium Hubble flows (`hubble observe -o json`, one `{"flow": ...}` per line, or bare flows) →
 * observed flows seen by the network.
 *
 * Only flows that show a connection being used count: dropped packets and replies are skipped.
 * Hubble reports the same packet at several observation points (egress of the source endpoint,
 * ingress of the destination, the proxy), so the parser remembers connections (5-tuple, event
 * time, bounded): a TCP connection counts once, at its first SYN, wherever it was seen. Every
 * counted flow adds one packet (Hubble carries no byte counts, so bytes stay 0). L7 request flows
 * (HTTP, DNS) count as evidence of their edge like L3/L4 flows.
 *
 * Identity comes from the endpoint's labels: app from `k8s:app`, `app.kubernetes.io/name` or
 * `k8s-app`; cluster from the owning workload (`workloads[0].name`, else the pod name without its
 * generated suffixes, else the cluster learned for the same Cilium security identity, else the
 * app). Endpoints with a `reserved:` label (world, host, remote-node, health, ...) get no identity,
 * so attribution treats their addresses like any other.
 */
export class HubbleFlowParser implements FlowParser {
  readonly counters: CounterSet<FlowParserCounter>;
  private readonly region: string | undefined;
  /** `protocol client port server port` of connections seen, in their client → server direction. */
  private readonly connections: RecentKeys;
  /** The same keys, for connections whose SYN was already counted. */
  private readonly opened: RecentKeys;
  /** Cilium security identity → cluster, learned from endpoints that carry a pod or workload name. */
  private readonly clusterBySecurityIdentity = new Map<number, string>();
  private latestMs = 0;
  private dropped = 0;
  private replies = 0;
  private notConnection = 0;
  private connectionsCounted = 0;
  private duplicateSyns = 0;

  constructor(options: HubbleFlowParserOptions = {}) {
    this.region = options.region;
    this.counters = options.counters ?? newFlowParserCounters();
    const size = options.memorySize ?? 100_000;
    const ttlMs = options.memoryTtlMs ?? 60_000;
    this.connections = new RecentKeys(size, ttlMs);
    this.opened = new RecentKeys(size, ttlMs);
  }

  parse(payload: Uint8Array | string): ParseResult {
    const flows: ObservedFlow[] = [];
    const rejections: Rejection[] = [];
    forEachLine(payloadText(payload), (line) => {
      const flow = this.parseLine(line);
      if (flow instanceof RecordProblem) rejections.push(rejection(flow, line));
      else if (flow !== undefined) flows.push(flow);
    });
    this.finishPayload(flows.length, rejections);
    return { flows, rejections };
  }

  private parseLine(line: string): ObservedFlow | RecordProblem | undefined {
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch (error) {
      return new RecordProblem('malformed', `not JSON: ${(error as Error).message}`);
    }
    if (!isObject(event)) return new RecordProblem('malformed', `a Hubble line is a JSON object, got ${describe(event)}`);
    const flow = isObject(event['flow']) ? event['flow'] : isFlow(event) ? event : undefined;
    if (flow === undefined) {
      if (event['flow'] !== undefined) return new RecordProblem('invalid-value', `flow must be an object, got ${describe(event['flow'])}`);
      // GetFlowsResponse also carries node status and lost-event notices: not flows.
      if (event['node_status'] !== undefined || event['lost_events'] !== undefined) {
        this.notConnection++;
        return undefined;
      }
      return new RecordProblem('missing-field', 'no flow in the line');
    }
    return this.observe(flow, event['time']);
  }

  private observe(flow: JsonObject, envelopeTime: unknown): ObservedFlow | RecordProblem | undefined {
    const verdict = flow['verdict'];
    if (verdict === 'DROPPED' || verdict === 'ERROR') {
      this.dropped++;
      return undefined;
    }
    const type = flow['Type'];
    if (type !== undefined && type !== 'L3_L4' && type !== 'L7') {
      this.notConnection++;
      return undefined;
    }
    const ipLayer = flow['IP'];
    if (ipLayer === undefined || ipLayer === null) {
      this.notConnection++;
      return undefined;
    }
    if (!isObject(ipLayer)) return new RecordProblem('invalid-value', `IP must be an object, got ${describe(ipLayer)}`);
    const srcIp = address(ipLayer['source'], 'IP.source');
    if (srcIp instanceof RecordProblem) return srcIp;
    const dstIp = address(ipLayer['destination'], 'IP.destination');
    if (dstIp instanceof RecordProblem) return dstIp;

    const l4 = readLayer4(flow['l4']);
    if (l4 instanceof RecordProblem) return l4;
    const timeMs = readTime(flow['time'] ?? envelopeTime);
    if (timeMs instanceof RecordProblem) return timeMs;
    if (timeMs > this.latestMs) this.latestMs = timeMs;

    const forward = `${l4.protocol} ${srcIp} ${l4.srcPort} ${dstIp} ${l4.dstPort}`;
    const reverse = `${l4.protocol} ${dstIp} ${l4.dstPort} ${srcIp} ${l4.srcPort}`;
    if (this.isReply(flow, l4, forward, reverse, timeMs)) {
      this.replies++;
      this.connections.touch(reverse, timeMs);
      return undefined;
    }
    this.connections.touch(forward, timeMs);
    let connections = 0;
    if (l4.syn && !l4.ack) {
      if (this.opened.has(forward, timeMs)) {
        this.duplicateSyns++;
      } else {
        connections = 1;
        this.connectionsCounted++;
      }
      this.opened.touch(forward, timeMs);
    }

    const client: ObservedEnd = { ip: srcIp, port: l4.srcPort };
    const clientIdentity = this.workload(flow['source']);
    if (clientIdentity !== undefined) client.identity = clientIdentity;
    const server: ObservedEnd = { ip: dstIp, port: l4.dstPort };
    const serverIdentity = this.workload(flow['destination']);
    if (serverIdentity !== undefined) server.identity = serverIdentity;
    const observed: ObservedFlow = {
      client,
      server,
      observer: 'network',
      protocol: l4.protocol,
      startMs: timeMs,
      endMs: timeMs,
      bytesSent: 0,
      bytesReceived: 0,
      packetsSent: 1,
      packetsReceived: 0,
      connections,
      retransmits: 0,
    };
    if (this.region !== undefined) observed.region = this.region;
    return observed;
  }

  /**
   * `is_reply` when Hubble knew (it is a wrapper: absent means unknown); else the older `reply`
   * flag, an L7 response, the TCP handshake (SYN-ACK answers), or a connection already seen the
   * other way round.
   */
  private isReply(flow: JsonObject, l4: Layer4, forward: string, reverse: string, timeMs: number): boolean {
    const isReply = flow['is_reply'];
    if (isReply === true || isReply === false) return isReply;
    if (flow['reply'] === true) return true;
    const l7 = flow['l7'];
    if (isObject(l7) && l7['type'] === 'RESPONSE') return true;
    if (l4.syn) return l4.ack;
    if (l4.echoReply) return true;
    if (this.connections.has(forward, timeMs)) return false;
    return this.connections.has(reverse, timeMs);
  }

  private workload(endpoint: unknown): WorkloadIdentity | undefined {
    if (!isObject(endpoint)) return undefined;
    const labels = endpoint['labels'];
    let app = '';
    if (Array.isArray(labels)) {
      for (const label of labels) {
        if (typeof label === 'string' && label.startsWith('reserved:')) return undefined;
      }
      app = appFromLabels(labels);
    }
    const owner = ownerName(endpoint);
    if (app === '') app = owner;
    if (app === '' || !isNameToken(app)) return undefined;
    const securityIdentity = endpoint['identity'];
    let cluster = owner;
    if (typeof securityIdentity === 'number') {
      if (owner !== '') this.learnCluster(securityIdentity, owner);
      else cluster = this.clusterBySecurityIdentity.get(securityIdentity) ?? '';
    }
    return { app, cluster: cluster !== '' && isNameToken(cluster) ? cluster : app };
  }

  private learnCluster(securityIdentity: number, cluster: string): void {
    if (this.clusterBySecurityIdentity.get(securityIdentity) === cluster) return;
    // Security identities number in the thousands per cluster; a cap only guards against garbage.
    if (this.clusterBySecurityIdentity.size >= 65_536) this.clusterBySecurityIdentity.clear();
    this.clusterBySecurityIdentity.set(securityIdentity, cluster);
  }

  private finishPayload(counted: number, rejections: Rejection[]): void {
    const c = this.counters;
    c.inc('hubble_flows_counted', counted);
    if (this.dropped > 0) c.inc('hubble_flows_dropped_verdict', this.dropped);
    if (this.replies > 0) c.inc('hubble_flows_reply', this.replies);
    if (this.notConnection > 0) c.inc('hubble_flows_not_connection', this.notConnection);
    if (this.connectionsCounted > 0) c.inc('hubble_connections_counted', this.connectionsCounted);
    if (this.duplicateSyns > 0) c.inc('hubble_duplicate_syn', this.duplicateSyns);
    const evicted = this.connections.evicted + this.opened.evicted;
    if (evicted > 0) c.inc('hubble_connection_keys_evicted', evicted);
    this.connections.evicted = 0;
    this.opened.evicted = 0;
    this.dropped = 0;
    this.replies = 0;
    this.notConnection = 0;
    this.connectionsCounted = 0;
    this.duplicateSyns = 0;
    countRejections(c, 'hubble_records_rejected', rejections);
    this.connections.expire(this.latestMs);
    this.opened.expire(this.latestMs);
  }
}

function isFlow(event: JsonObject): boolean {
  return event['IP'] !== undefined || event['verdict'] !== undefined || event['l4'] !== undefined;
}

function appFromLabels(labels: unknown[]): string {
  for (const prefix of APP_LABELS) {
    for (const label of labels) {
      if (typeof label === 'string' && label.startsWith(prefix)) return label.slice(prefix.length);
    }
  }
  return '';
}

/**
 * The workload that owns the endpoint: Hubble's `workloads[0].name` when present, else the pod
 * name without the suffixes Kubernetes generates (`<deployment>-<template-hash>-<5>`,
 * `<daemonset or job>-<5>`, `<statefulset>-<ordinal>`); '' when neither is known.
 */
function ownerName(endpoint: JsonObject): string {
  const workloads = endpoint['workloads'];
  if (Array.isArray(workloads) && isObject(workloads[0]) && typeof workloads[0]['name'] === 'string' && workloads[0]['name'] !== '') {
    return workloads[0]['name'];
  }
  const pod = endpoint['pod_name'];
  if (typeof pod !== 'string' || pod === '') return '';
  return podOwner(pod);
}

export function podOwner(pod: string): string {
  const parts = pod.split('-');
  const last = parts[parts.length - 1] ?? '';
  const beforeLast = parts[parts.length - 2] ?? '';
  if (parts.length >= 3 && last.length === 5 && GENERATED.test(last) && beforeLast.length >= 6 && beforeLast.length <= 10 && GENERATED.test(beforeLast)) {
    return parts.slice(0, -2).join('-');
  }
  if (parts.length >= 2 && ((last.length === 5 && GENERATED.test(last)) || DIGITS.test(last))) return parts.slice(0, -1).join('-');
  return pod;
}

interface Layer4 {
  protocol: string;
  srcPort: number;
  dstPort: number;
  syn: boolean;
  ack: boolean;
  echoReply: boolean;
}

const ICMP_ECHO_REPLY = 0;
const ICMPV6_ECHO_REPLY = 129;

function readLayer4(value: unknown): Layer4 | RecordProblem {
  const l4: Layer4 = { protocol: '', srcPort: 0, dstPort: 0, syn: false, ack: false, echoReply: false };
  if (value === undefined || value === null) return l4;
  if (!isObject(value)) return new RecordProblem('invalid-value', `l4 must be an object, got ${describe(value)}`);
  const tcp = value['TCP'];
  const transport = tcp ?? value['UDP'] ?? value['SCTP'];
  if (transport !== undefined && transport !== null) {
    if (!isObject(transport)) return new RecordProblem('invalid-value', `l4 transport must be an object, got ${describe(transport)}`);
    l4.protocol = tcp !== undefined && tcp !== null ? 'tcp' : value['UDP'] !== undefined && value['UDP'] !== null ? 'udp' : 'sctp';
    const srcPort = readPort(transport['source_port'], 'source_port');
    if (srcPort instanceof RecordProblem) return srcPort;
    const dstPort = readPort(transport['destination_port'], 'destination_port');
    if (dstPort instanceof RecordProblem) return dstPort;
    l4.srcPort = srcPort;
    l4.dstPort = dstPort;
    const flags = transport['flags'];
    if (isObject(flags)) {
      l4.syn = flags['SYN'] === true;
      l4.ack = flags['ACK'] === true;
    }
    return l4;
  }
  const icmp4 = value['ICMPv4'];
  const icmp6 = value['ICMPv6'];
  if (isObject(icmp4)) {
    l4.protocol = 'icmp';
    l4.echoReply = (icmp4['type'] ?? 0) === ICMP_ECHO_REPLY;
  } else if (isObject(icmp6)) {
    l4.protocol = 'ipv6-icmp';
    l4.echoReply = icmp6['type'] === ICMPV6_ECHO_REPLY;
  }
  return l4;
}

function readPort(value: unknown, name: string): number | RecordProblem {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535) return value;
  return new RecordProblem('invalid-value', `${name} must be an integer 0-65535, got ${describe(value)}`);
}

function address(value: unknown, name: string): string | RecordProblem {
  if (value === undefined || value === null || value === '') return new RecordProblem('missing-field', `${name} is missing`);
  if (typeof value !== 'string') return new RecordProblem('invalid-value', `${name} must be a string, got ${describe(value)}`);
  return normalizeIp(value) ?? new RecordProblem('invalid-value', `${name} is not an IP address: ${describe(value)}`);
}

function readTime(value: unknown): number | RecordProblem {
  if (value === undefined || value === null || value === '') return new RecordProblem('missing-field', 'time is missing');
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : new RecordProblem('invalid-time', `time is not an RFC 3339 timestamp: ${describe(value)}`);
}
