import type { Rejection } from '@topology/contracts';
import type { Clock, CounterSet } from '@topology/model';
import { systemClock } from '@topology/model';
import type { ObservedFlow } from '../observed-flow';
import type { FlowParser, FlowParserCounter, ParseResult } from './flow-parser';
import { countRejections, describe, forEachLine, newFlowParserCounters, payloadText, protocolName, RecordProblem, rejection } from './flow-parser';
import { normalizeIp } from './ip-address';
import { RecentKeys } from './recent-keys';
import type { VpcFlowLogFormat } from './vpc-flow-log-format';

const TCP_SYN = 2;
const TCP_ACK = 16;
const EPHEMERAL_FLOOR = 32768;
const WELL_KNOWN_CEILING = 1024;

/** How a record's client and server were decided; the label of the `vpc_orientation` counter. */
export type VpcOrientationRule = 'tcp-flags' | 'known-connection' | 'listener' | 'aws-service' | 'ports' | 'record-order';

export interface VpcFlowLogParserOptions {
  /** Region of the Kafka cluster the records came from, for formats without the `region` field. */
  region?: string;
  /** Processing time, used as the flow time only by formats without `start` and `end`. */
  clock?: Clock;
  counters?: CounterSet<FlowParserCounter>;
  /** Connections and server endpoints remembered for orienting later records, each (default 100 000). */
  memorySize?: number;
  /** A remembered connection or server endpoint is trusted this long after it was last seen, event time (default 1 h). */
  memoryTtlMs?: number;
}

/**
 * AWS VPC flow log records (default or custom format) → observed flows seen by the network.
 *
 * A record is one direction of one 5-tuple on one interface. Each record is oriented client →
 * server by, in order: its TCP flags (SYN without ACK comes from the client; SYN-ACK from the
 * server), the orientation already given to the same 5-tuple (either direction) by an earlier
 * record, a server endpoint learned from an earlier handshake, an AWS service end (services
 * answer), the ports (well-known below 1024, then registered below 32768, beat ephemeral; then the
 * lower port), and finally the record's own direction. A record of the reply direction becomes a
 * flow with its counters on the received side, so stage 2 sums both directions of a connection.
 */
export class VpcFlowLogParser implements FlowParser {
  readonly counters: CounterSet<FlowParserCounter>;
  private readonly region: string | undefined;
  private readonly clock: Clock;
  /** `protocol client port server port` of connections already oriented. */
  private readonly connections: RecentKeys;
  /** `protocol ip port` of server endpoints seen in a handshake. */
  private readonly listeners: RecentKeys;
  /** The fields of the record at hand, by position; only those in `read` are current. */
  private readonly tokens: string[];
  /** Per field position, whether a record's field is ever read; the others are not sliced out. */
  private readonly read: Uint8Array;
  /** The reverse connection key of the record at hand, once built ('' before). */
  private reverseKey = '';
  private readonly ruleCounts: Record<VpcOrientationRule, number> = {
    'tcp-flags': 0,
    'known-connection': 0,
    listener: 0,
    'aws-service': 0,
    ports: 0,
    'record-order': 0,
  };
  private rule: VpcOrientationRule = 'record-order';
  private latestMs = 0;
  private noData = 0;
  private actionReject = 0;
  private headers = 0;

  constructor(
    readonly format: VpcFlowLogFormat,
    options: VpcFlowLogParserOptions = {},
  ) {
    this.region = options.region;
    this.clock = options.clock ?? systemClock;
    this.counters = options.counters ?? newFlowParserCounters();
    const size = options.memorySize ?? 100_000;
    const ttlMs = options.memoryTtlMs ?? 3_600_000;
    this.connections = new RecentKeys(size, ttlMs);
    this.listeners = new RecentKeys(size, ttlMs);
    this.tokens = new Array<string>(format.fields.length).fill('');
    this.read = new Uint8Array(format.fields.length);
    // The first field is compared to the header's first name.
    this.read[0] = 1;
    for (const index of [
      format.srcaddr, format.dstaddr, format.pktSrcaddr, format.pktDstaddr, format.srcport, format.dstport, format.protocol, format.packets, format.bytes,
      format.start, format.end, format.action, format.logStatus, format.instanceId, format.tcpFlags, format.region, format.pktSrcAwsService, format.pktDstAwsService,
    ]) {
      if (index >= 0) this.read[index] = 1;
    }
  }

  parse(payload: Uint8Array | string): ParseResult {
    const flows: ObservedFlow[] = [];
    const rejections: Rejection[] = [];
    forEachLine(payloadText(payload), (line) => {
      const flow = this.parseRecord(line);
      if (flow instanceof RecordProblem) rejections.push(rejection(flow, line));
      else if (flow !== undefined) flows.push(flow);
    });
    this.flushCounters(flows.length, rejections);
    this.connections.expire(this.latestMs);
    this.listeners.expire(this.latestMs);
    return { flows, rejections };
  }

  /** One record; undefined when it is skipped (no data, rejected traffic, a header line). */
  private parseRecord(line: string): ObservedFlow | RecordProblem | undefined {
    const f = this.format;
    const tokens = this.tokens;
    const fieldCount = splitFields(line, tokens, this.read);
    if (fieldCount !== f.fields.length) {
      return new RecordProblem('malformed', `expected ${f.fields.length} fields (${f.fields.join(' ')}), got ${fieldCount}`);
    }
    // S3 delivery starts each file with the field names.
    if (tokens[0] === f.fields[0] && this.isHeader(line)) {
      this.headers++;
      return undefined;
    }

    const status = field(tokens, f.logStatus);
    if (status === 'NODATA' || status === 'SKIPDATA') {
      this.noData++;
      return undefined;
    }
    if (status !== '-' && status !== 'OK') return new RecordProblem('invalid-value', `log-status must be OK, NODATA or SKIPDATA, got ${describe(status)}`);
    const action = field(tokens, f.action);
    if (action === 'REJECT') {
      this.actionReject++;
      return undefined;
    }
    if (action !== 'ACCEPT' && action !== '-') return new RecordProblem('invalid-value', `action must be ACCEPT or REJECT, got ${describe(action)}`);

    // The packet addresses are the true ends; the interface addresses differ from them only when
    // the interface is in the middle (a NAT or transit gateway interface, or a secondary address).
    const ifSrc = field(tokens, f.srcaddr);
    const ifDst = field(tokens, f.dstaddr);
    const pktSrc = field(tokens, f.pktSrcaddr);
    const pktDst = field(tokens, f.pktDstaddr);
    const srcText = pktSrc !== '-' ? pktSrc : ifSrc;
    const dstText = pktDst !== '-' ? pktDst : ifDst;
    if (srcText === '-' && dstText === '-') {
      this.noData++;
      return undefined;
    }
    const src = address(srcText, pktSrc !== '-' ? 'pkt-srcaddr' : 'srcaddr');
    if (src instanceof RecordProblem) return src;
    const dst = address(dstText, pktDst !== '-' ? 'pkt-dstaddr' : 'dstaddr');
    if (dst instanceof RecordProblem) return dst;
    const via = this.intermediaryAddress(tokens, ifSrc, src, ifDst, dst);
    if (via instanceof RecordProblem) return via;

    const srcPort = port(tokens, f.srcport, 'srcport');
    if (srcPort instanceof RecordProblem) return srcPort;
    const dstPort = port(tokens, f.dstport, 'dstport');
    if (dstPort instanceof RecordProblem) return dstPort;
    const protocolNumber = count(tokens, f.protocol, 'protocol');
    if (protocolNumber instanceof RecordProblem) return protocolNumber;
    if (protocolNumber > 255) return new RecordProblem('invalid-value', `protocol must be an IANA protocol number 0-255, got ${protocolNumber}`);
    const protocol = field(tokens, f.protocol) === '-' ? '' : protocolName(protocolNumber);
    const packets = count(tokens, f.packets, 'packets');
    if (packets instanceof RecordProblem) return packets;
    const bytes = count(tokens, f.bytes, 'bytes');
    if (bytes instanceof RecordProblem) return bytes;
    const flags = field(tokens, f.tcpFlags) === '-' ? -1 : count(tokens, f.tcpFlags, 'tcp-flags');
    if (flags instanceof RecordProblem) return flags;

    const startS = count(tokens, f.start, 'start');
    if (startS instanceof RecordProblem) return startS;
    const endS = count(tokens, f.end, 'end');
    if (endS instanceof RecordProblem) return endS;
    const hasStart = field(tokens, f.start) !== '-';
    const hasEnd = field(tokens, f.end) !== '-';
    const nowMs = hasStart || hasEnd ? 0 : this.clock.now();
    const startMs = hasStart ? startS * 1000 : hasEnd ? endS * 1000 : nowMs;
    const endMs = hasEnd ? endS * 1000 : startMs;
    if (endMs < startMs) return new RecordProblem('invalid-time', `end ${endS} is before start ${startS}`);

    const srcIsClient = this.srcIsClient(tokens, protocol, src, srcPort, dst, dstPort, flags, endMs);
    const flow: ObservedFlow = {
      client: srcIsClient ? { ip: src, port: srcPort } : { ip: dst, port: dstPort },
      server: srcIsClient ? { ip: dst, port: dstPort } : { ip: src, port: srcPort },
      observer: 'network',
      protocol,
      startMs,
      endMs,
      bytesSent: srcIsClient ? bytes : 0,
      bytesReceived: srcIsClient ? 0 : bytes,
      packetsSent: srcIsClient ? packets : 0,
      packetsReceived: srcIsClient ? 0 : packets,
      connections: flags >= 0 && (flags & TCP_SYN) !== 0 && (flags & TCP_ACK) === 0 ? 1 : 0,
      retransmits: 0,
    };
    if (via !== undefined) flow.viaIp = via;
    const recordRegion = field(tokens, f.region);
    const region = recordRegion !== '-' ? recordRegion : this.region;
    if (region !== undefined) flow.region = region;
    return flow;
  }

  /**
   * The interface's own address when it differs from the packet's on one side: the interface is
   * then an intermediary the traffic passes through. An interface attached to an instance (an EKS
   * node whose pods use secondary addresses) is not one, so records naming an instance get none.
   */
  private intermediaryAddress(tokens: string[], ifSrc: string, src: string, ifDst: string, dst: string): string | undefined | RecordProblem {
    const f = this.format;
    if (f.instanceId >= 0 && field(tokens, f.instanceId) !== '-') return undefined;
    if (f.pktSrcaddr >= 0 && ifSrc !== '-' && ifSrc !== src) {
      const ip = address(ifSrc, 'srcaddr');
      if (ip instanceof RecordProblem || ip !== src) return ip;
    }
    if (f.pktDstaddr >= 0 && ifDst !== '-' && ifDst !== dst) {
      const ip = address(ifDst, 'dstaddr');
      if (ip instanceof RecordProblem || ip !== dst) return ip;
    }
    return undefined;
  }

  private srcIsClient(tokens: string[], protocol: string, src: string, srcPort: number, dst: string, dstPort: number, flags: number, endMs: number): boolean {
    const forward = `${protocol} ${src} ${srcPort} ${dst} ${dstPort}`;
    this.reverseKey = '';
    const srcIsClient = this.orient(tokens, protocol, src, srcPort, dst, dstPort, flags, endMs, forward);
    this.ruleCounts[this.rule]++;
    // A known connection was refreshed when it was found.
    if (this.rule !== 'known-connection') this.connections.touch(srcIsClient ? forward : this.reverse(protocol, src, srcPort, dst, dstPort), endMs);
    if (endMs > this.latestMs) this.latestMs = endMs;
    return srcIsClient;
  }

  /** Whether the record's source is the client; sets `rule` to the rule that decided. */
  private orient(
    tokens: string[],
    protocol: string,
    src: string,
    srcPort: number,
    dst: string,
    dstPort: number,
    flags: number,
    endMs: number,
    forward: string,
  ): boolean {
    if (flags >= 0 && (flags & TCP_SYN) !== 0) {
      this.rule = 'tcp-flags';
      const fromServer = (flags & TCP_ACK) !== 0;
      if (fromServer) this.listeners.touch(`${protocol} ${src} ${srcPort}`, endMs);
      else this.listeners.touch(`${protocol} ${dst} ${dstPort}`, endMs);
      return !fromServer;
    }
    this.rule = 'known-connection';
    if (this.connections.refresh(forward, endMs)) return true;
    if (this.connections.refresh(this.reverse(protocol, src, srcPort, dst, dstPort), endMs)) return false;
    this.rule = 'listener';
    if (this.listeners.has(`${protocol} ${dst} ${dstPort}`, endMs)) return true;
    if (this.listeners.has(`${protocol} ${src} ${srcPort}`, endMs)) return false;
    const f = this.format;
    const srcService = field(tokens, f.pktSrcAwsService) !== '-';
    const dstService = field(tokens, f.pktDstAwsService) !== '-';
    if (srcService !== dstService) {
      this.rule = 'aws-service';
      return dstService;
    }
    if (srcPort !== dstPort) {
      this.rule = 'ports';
      const srcClass = portClass(srcPort);
      const dstClass = portClass(dstPort);
      return srcClass !== dstClass ? srcClass > dstClass : srcPort > dstPort;
    }
    this.rule = 'record-order';
    return true;
  }

  /** The key of the record's connection seen from its destination, built only when asked for. */
  private reverse(protocol: string, src: string, srcPort: number, dst: string, dstPort: number): string {
    if (this.reverseKey === '') this.reverseKey = `${protocol} ${dst} ${dstPort} ${src} ${srcPort}`;
    return this.reverseKey;
  }

  private isHeader(line: string): boolean {
    const names = this.format.fields;
    const tokens: string[] = [];
    splitFields(line, tokens, undefined);
    for (let i = 0; i < names.length; i++) if (tokens[i] !== names[i]) return false;
    return true;
  }

  private flushCounters(parsed: number, rejections: Rejection[]): void {
    const c = this.counters;
    c.inc('vpc_records_parsed', parsed);
    if (this.noData > 0) c.inc('vpc_records_no_data', this.noData);
    if (this.actionReject > 0) c.inc('vpc_records_action_reject', this.actionReject);
    if (this.headers > 0) c.inc('vpc_header_lines', this.headers);
    for (const rule of Object.keys(this.ruleCounts) as VpcOrientationRule[]) {
      if (this.ruleCounts[rule] > 0) c.inc('vpc_orientation', this.ruleCounts[rule], rule);
      this.ruleCounts[rule] = 0;
    }
    const evicted = this.connections.evicted + this.listeners.evicted;
    if (evicted > 0) c.inc('vpc_memory_evicted', evicted);
    this.connections.evicted = 0;
    this.listeners.evicted = 0;
    this.noData = 0;
    this.actionReject = 0;
    this.headers = 0;
    countRejections(c, 'vpc_records_rejected', rejections);
  }
}

/** 0 for well-known ports, 1 for registered ones, 2 for the ephemeral range; a lower class serves. */
function portClass(port: number): number {
  return port < WELL_KNOWN_CEILING ? 0 : port < EPHEMERAL_FLOOR ? 1 : 2;
}

/**
 * Splits a record on runs of spaces or tabs (AWS examples contain double spaces) into `into`, and
 * returns how many fields it has. With `read`, only the fields it marks are sliced out (the others
 * are left as they were) and no more fields than it has are stored; `into` is written in place,
 * never shortened, so it is not reallocated record after record.
 */
function splitFields(line: string, into: string[], read: Uint8Array | undefined): number {
  const length = line.length;
  const stored = read === undefined ? Number.MAX_SAFE_INTEGER : read.length;
  let n = 0;
  if (line.indexOf('\t') < 0) {
    // Spaces only, as AWS writes records: the next separator is found by the string search.
    let i = 0;
    while (i < length) {
      if (line.charCodeAt(i) === 32) {
        i++;
        continue;
      }
      let next = line.indexOf(' ', i);
      if (next < 0) next = length;
      if (n < stored && (read === undefined || read[n] === 1)) into[n] = line.slice(i, next);
      n++;
      i = next + 1;
    }
    return n;
  }
  let start = -1;
  for (let i = 0; i <= length; i++) {
    const c = i === length ? 32 : line.charCodeAt(i);
    if (c === 32 || c === 9) {
      if (start >= 0) {
        if (n < stored && (read === undefined || read[n] === 1)) into[n] = line.slice(start, i);
        n++;
      }
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  return n;
}

/** The field's text, or `-` (the format's own "not applicable") when the format lacks it. */
function field(tokens: string[], index: number): string {
  return index < 0 ? '-' : (tokens[index] as string);
}

function address(text: string, name: string): string | RecordProblem {
  if (text === '-') return '';
  const ip = normalizeIp(text);
  return ip ?? new RecordProblem('invalid-value', `${name} is not an IP address: ${describe(text)}`);
}

function port(tokens: string[], index: number, name: string): number | RecordProblem {
  const value = count(tokens, index, name);
  if (typeof value === 'number' && value > 65535) return new RecordProblem('invalid-value', `${name} must be 0-65535, got ${value}`);
  return value;
}

/** A non-negative decimal integer field; 0 when absent or `-`. */
function count(tokens: string[], index: number, name: string): number | RecordProblem {
  const text = field(tokens, index);
  if (text === '-') return 0;
  if (text.length > 15) return new RecordProblem('invalid-value', `${name} is out of range: ${describe(text)}`);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return new RecordProblem('invalid-value', `${name} must be a non-negative integer, got ${describe(text)}`);
    n = n * 10 + d;
  }
  return n;
}

