import type { Rejection } from '@topology/contracts';
import { decodeFlowRecordBatch } from '@topology/contracts';
import type { CounterSet, WorkloadIdentity } from '@topology/model';
import { parseClusterName } from '@topology/model';
import type { ObservedEnd, ObservedFlow } from '../observed-flow';
import type { FlowParser, FlowParserCounter, ParseResult } from './flow-parser';
import { countRejections, describe, forEachLine, isNameToken, isObject, newFlowParserCounters, protocolName, RecordProblem, rejection } from './flow-parser';
import { normalizeIp } from './ip-address';

export interface CanonicalFlowParserOptions {
  /** Region of the Kafka cluster the records came from; the record's own identity region is the fallback. */
  region?: string;
  counters?: CounterSet<FlowParserCounter>;
}

/**
 * Canonical flow records as JSON lines, in the proto3 JSON form of `FlowRecord` (camelCase or
 * original snake_case names, int64 as number or string, omitted fields at their defaults).
 * This is the hot path of stage 1: after `JSON.parse`, fields are checked by hand, without a
 * schema library, and a good record allocates nothing beyond the flow itself.
 */
export class CanonicalFlowJsonParser implements FlowParser {
  readonly counters: CounterSet<FlowParserCounter>;
  private readonly region: string | undefined;
  private readonly scanner = new CanonicalLineScanner();

  constructor(options: CanonicalFlowParserOptions = {}) {
    this.region = options.region;
    this.counters = options.counters ?? newFlowParserCounters();
  }

  parse(payload: Uint8Array | string): ParseResult {
    const flows: ObservedFlow[] = [];
    const rejections: Rejection[] = [];
    if (typeof payload === 'string') {
      forEachLine(payload, (line) => this.addLine(line, flows, rejections));
    } else {
      // Most lines are read from the bytes as they came; only the others are decoded, one by one.
      const scanner = this.scanner;
      const length = payload.length;
      let start = 0;
      while (start < length) {
        let end = payload.indexOf(NEWLINE, start);
        if (end < 0) end = length;
        let stop = end;
        if (stop > start && payload[stop - 1] === CARRIAGE_RETURN) stop--;
        if (!isBlankBytes(payload, start, stop)) {
          const flow = scanner.scan(payload, start, stop, this.region);
          if (flow !== undefined) flows.push(flow);
          else this.addLine((start === 0 ? utf8 : utf8KeepingBom).decode(payload.subarray(start, stop)), flows, rejections);
        }
        start = end + 1;
      }
    }
    this.counters.inc('canonical_records_parsed', flows.length);
    countRejections(this.counters, 'canonical_records_rejected', rejections);
    return { flows, rejections };
  }

  private addLine(line: string, flows: ObservedFlow[], rejections: Rejection[]): void {
    const flow = this.parseLine(line);
    if (flow instanceof RecordProblem) rejections.push(rejection(flow, line));
    else flows.push(flow);
  }

  parseLine(line: string): ObservedFlow | RecordProblem {
    return parseRecordJson(line, this.region);
  }
}

/** As `payloadText` decodes a payload: a byte-order mark is dropped at its start only. */
const utf8 = new TextDecoder('utf-8');
const utf8KeepingBom = new TextDecoder('utf-8', { ignoreBOM: true });
const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

function isBlankBytes(bytes: Uint8Array, start: number, stop: number): boolean {
  for (let i = start; i < stop; i++) {
    const c = bytes[i];
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/** The general reader: any proto3 JSON spelling, and the exact reason when a line is bad. */
function parseRecordJson(line: string, region: string | undefined): ObservedFlow | RecordProblem {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (error) {
    return new RecordProblem('malformed', `not JSON: ${(error as Error).message}`);
  }
  return observedFlowFromRecord(record, region);
}

/** Canonical flow records as one protobuf `FlowRecordBatch` per message. */
export class CanonicalFlowProtobufParser implements FlowParser {
  readonly counters: CounterSet<FlowParserCounter>;
  private readonly region: string | undefined;

  constructor(options: CanonicalFlowParserOptions = {}) {
    this.region = options.region;
    this.counters = options.counters ?? newFlowParserCounters();
  }

  parse(payload: Uint8Array | string): ParseResult {
    const flows: ObservedFlow[] = [];
    const rejections: Rejection[] = [];
    if (typeof payload === 'string') {
      rejections.push({ reason: 'malformed', message: 'a FlowRecordBatch payload must be bytes, got text', raw: payload });
    } else {
      let records: Record<string, unknown>[] = [];
      try {
        records = decodeFlowRecordBatch(payload);
      } catch (error) {
        rejections.push({ reason: 'malformed', message: `not a protobuf FlowRecordBatch: ${(error as Error).message}`, raw: payload });
      }
      for (const record of records) {
        const flow = observedFlowFromRecord(record, this.region);
        // The batch is one message; the offending record alone, as JSON, is what an operator needs.
        if (flow instanceof RecordProblem) rejections.push(rejection(flow, JSON.stringify(record)));
        else flows.push(flow);
      }
    }
    this.counters.inc('canonical_records_parsed', flows.length);
    countRejections(this.counters, 'canonical_records_rejected', rejections);
    return { flows, rejections };
  }
}

type JsonObject = Record<string, unknown>;

/**
 * One parsed record (JSON, or decoded protobuf) → an observed flow oriented client → server.
 * The exporter reports from its own side: role client means the local end opened the connection,
 * role server that it accepted it; `bytesSent` is local → remote, so a server's record swaps the
 * directions. Proto3 JSON readers accept the original snake_case names too; camelCase wins.
 */
export function observedFlowFromRecord(record: unknown, region: string | undefined): ObservedFlow | RecordProblem {
  if (!isObject(record)) return new RecordProblem('malformed', `a flow record is a JSON object, got ${describe(record)}`);

  const local = record['local'];
  const localIp = address('local', local);
  if (localIp instanceof RecordProblem) return localIp;
  const localPort = port('local', (local as JsonObject)['port']);
  if (localPort instanceof RecordProblem) return localPort;
  const remote = record['remote'];
  const remoteIp = address('remote', remote);
  if (remoteIp instanceof RecordProblem) return remoteIp;
  const remotePort = port('remote', (remote as JsonObject)['port']);
  if (remotePort instanceof RecordProblem) return remotePort;

  const identity = workloadIdentity(record['localIdentity'] ?? record['local_identity']);
  if (identity instanceof RecordProblem) return identity;
  const role = readRole(record['role']);
  if (role instanceof RecordProblem) return role;
  const protocol = readProtocol(record['protocol']);
  if (protocol instanceof RecordProblem) return protocol;

  const startRaw = record['startMs'] ?? record['start_ms'];
  const endRaw = record['endMs'] ?? record['end_ms'];
  if (startRaw === undefined || startRaw === null) return new RecordProblem('missing-field', 'startMs is missing');
  if (endRaw === undefined || endRaw === null) return new RecordProblem('missing-field', 'endMs is missing');
  const startMs = readUnsigned(startRaw);
  if (startMs < 0) return invalidCount('startMs', startRaw);
  const endMs = readUnsigned(endRaw);
  if (endMs < 0) return invalidCount('endMs', endRaw);
  if (endMs < startMs) return new RecordProblem('invalid-time', `endMs ${endMs} is before startMs ${startMs}`);

  const sentRaw = record['bytesSent'] ?? record['bytes_sent'];
  const bytesSent = readUnsigned(sentRaw);
  if (bytesSent < 0) return invalidCount('bytesSent', sentRaw);
  const receivedRaw = record['bytesReceived'] ?? record['bytes_received'];
  const bytesReceived = readUnsigned(receivedRaw);
  if (bytesReceived < 0) return invalidCount('bytesReceived', receivedRaw);
  const packetsSentRaw = record['packetsSent'] ?? record['packets_sent'];
  const packetsSent = readUnsigned(packetsSentRaw);
  if (packetsSent < 0) return invalidCount('packetsSent', packetsSentRaw);
  const packetsReceivedRaw = record['packetsReceived'] ?? record['packets_received'];
  const packetsReceived = readUnsigned(packetsReceivedRaw);
  if (packetsReceived < 0) return invalidCount('packetsReceived', packetsReceivedRaw);
  const retransmitsRaw = record['retransmits'];
  const retransmits = readUnsigned(retransmitsRaw);
  if (retransmits < 0) return invalidCount('retransmits', retransmitsRaw);
  const rttRaw = record['rttUs'] ?? record['rtt_us'];
  const rttUs = readUnsigned(rttRaw);
  if (rttUs < 0) return invalidCount('rttUs', rttRaw);
  const connectionsRaw = record['connections'];
  const connections = readUnsigned(connectionsRaw);
  if (connections < 0) return invalidCount('connections', connectionsRaw);

  return orientedFlow(localIp, localPort, identity, remoteIp, remotePort, role, protocol, startMs, endMs, bytesSent, bytesReceived, packetsSent, packetsReceived, retransmits, rttUs, connections, region);
}

/** Both readers build the flow here, so it has one shape whichever read the line. */
function orientedFlow(
  localIp: string,
  localPort: number,
  identity: WorkloadIdentity,
  remoteIp: string,
  remotePort: number,
  role: 'client' | 'server',
  protocol: string,
  startMs: number,
  endMs: number,
  bytesSent: number,
  bytesReceived: number,
  packetsSent: number,
  packetsReceived: number,
  retransmits: number,
  rttUs: number,
  connections: number,
  region: string | undefined,
): ObservedFlow {
  const localEnd: ObservedEnd = { ip: localIp, port: localPort, identity };
  const remoteEnd: ObservedEnd = { ip: remoteIp, port: remotePort };
  const isClient = role === 'client';
  const flow: ObservedFlow = {
    client: isClient ? localEnd : remoteEnd,
    server: isClient ? remoteEnd : localEnd,
    observer: role,
    protocol,
    startMs,
    endMs,
    bytesSent: isClient ? bytesSent : bytesReceived,
    bytesReceived: isClient ? bytesReceived : bytesSent,
    packetsSent: isClient ? packetsSent : packetsReceived,
    packetsReceived: isClient ? packetsReceived : packetsSent,
    connections,
    retransmits,
  };
  if (rttUs > 0) flow.rttUs = rttUs;
  const flowRegion = region ?? identity.region;
  if (flowRegion !== undefined) flow.region = flowRegion;
  return flow;
}

/** The end's IP; on success the end is known to be an object. */
function address(side: 'local' | 'remote', end: unknown): string | RecordProblem {
  if (end === undefined || end === null) return new RecordProblem('missing-field', `${side} is missing`);
  if (!isObject(end)) return new RecordProblem('invalid-value', `${side} must be an object {ip, port}, got ${describe(end)}`);
  const ipText = end['ip'];
  if (ipText === undefined || ipText === null || ipText === '') return new RecordProblem('missing-field', `${side}.ip is missing`);
  if (typeof ipText !== 'string') return new RecordProblem('invalid-value', `${side}.ip must be a string, got ${describe(ipText)}`);
  const ip = normalizeIp(ipText);
  if (ip === undefined) return new RecordProblem('invalid-value', `${side}.ip is not an IP address: ${describe(ipText)}`);
  return ip;
}

function port(side: 'local' | 'remote', value: unknown): number | RecordProblem {
  const n = readUnsigned(value);
  if (n < 0 || n > 65535) return new RecordProblem('invalid-value', `${side}.port must be an integer 0-65535, got ${describe(value)}`);
  return n;
}

function workloadIdentity(value: unknown): WorkloadIdentity | RecordProblem {
  if (value === undefined || value === null) return new RecordProblem('missing-field', 'localIdentity is missing');
  if (!isObject(value)) return new RecordProblem('invalid-value', `localIdentity must be an object, got ${describe(value)}`);
  const app = optionalName('app', value['app']);
  if (app instanceof RecordProblem) return app;
  const cluster = optionalName('cluster', value['cluster']);
  if (cluster instanceof RecordProblem) return cluster;
  if (app === '' && cluster === '') return new RecordProblem('missing-field', 'localIdentity needs an app or a cluster');
  // A workload that names only its app is its own single cluster.
  const identity: WorkloadIdentity = { app: app === '' ? parseClusterName(cluster).app : app, cluster: cluster === '' ? app : cluster };
  const instance = value['instance'];
  if (typeof instance === 'string' && instance !== '') identity.instance = instance;
  const account = value['account'];
  if (typeof account === 'string' && account !== '') identity.account = account;
  const identityRegion = value['region'];
  if (typeof identityRegion === 'string' && identityRegion !== '') identity.region = identityRegion;
  const zone = value['zone'];
  if (typeof zone === 'string' && zone !== '') identity.zone = zone;
  return identity;
}

/** '' when absent; node ids cannot hold whitespace, so names with any are refused here. */
function optionalName(field: 'app' | 'cluster', value: unknown): string | RecordProblem {
  if (value === undefined || value === null || value === '') return '';
  if (typeof value !== 'string') return new RecordProblem('invalid-value', `localIdentity.${field} must be a string, got ${describe(value)}`);
  if (!isNameToken(value)) return new RecordProblem('invalid-value', `localIdentity.${field} contains whitespace: ${describe(value)}`);
  return value;
}

function readRole(value: unknown): 'client' | 'server' | RecordProblem {
  if (value === 'ROLE_CLIENT' || value === 'client' || value === 1) return 'client';
  if (value === 'ROLE_SERVER' || value === 'server' || value === 2) return 'server';
  if (value === undefined || value === null || value === 0 || value === '') return new RecordProblem('missing-field', 'role is missing');
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'client' || lower === 'role_client') return 'client';
    if (lower === 'server' || lower === 'role_server') return 'server';
    if (lower === 'role_unspecified') return new RecordProblem('missing-field', 'role is missing (ROLE_UNSPECIFIED)');
  }
  return new RecordProblem('invalid-value', `role must be client or server, got ${describe(value)}`);
}

function readProtocol(value: unknown): string | RecordProblem {
  if (value === 'tcp' || value === 'udp') return value;
  if (value === undefined || value === null || value === '') return new RecordProblem('missing-field', 'protocol is missing');
  if (typeof value !== 'string' || !isNameToken(value)) return new RecordProblem('invalid-value', `protocol must be a protocol name, got ${describe(value)}`);
  // Some exporters write the IANA number; the pipeline keys edges by the keyword.
  const number = value.length <= 3 ? Number(value) : Number.NaN;
  if (Number.isInteger(number) && number >= 0 && number <= 255) return protocolName(number);
  return value.toLowerCase();
}

const INVALID = -1;
/** Above this many digits an integer no longer fits a double exactly. */
const MAX_DIGITS = 16;

/**
 * A non-negative integer given as a JSON number or, as proto3 JSON writes 64-bit integers, a
 * decimal string; absent means the proto3 default 0. INVALID for anything else.
 */
function readUnsigned(value: unknown): number {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : INVALID;
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_DIGITS) return INVALID;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return INVALID;
    n = n * 10 + d;
  }
  return Number.isSafeInteger(n) ? n : INVALID;
}

function invalidCount(field: string, value: unknown): RecordProblem {
  return new RecordProblem('invalid-value', `${field} must be a non-negative integer, got ${describe(value)}`);
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const DOT = 46;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const ZERO = 48;
/** One digit fewer than `MAX_DIGITS`: every integer of this many digits is exact. */
const MAX_SCANNED_DIGITS = 15;
/** Identities remembered by their text: about the hosts one partition carries. */
const IDENTITY_SLOTS = 4096;
/** Distinct IPv4 addresses whose text is kept for reuse before the memory starts over. */
const MAX_IPV4_TEXTS = 200_000;

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const LOCAL_IP = ascii('{"local":{"ip":');
const PORT = ascii(',"port":');
const REMOTE_IP = ascii('},"remote":{"ip":');
const LOCAL_IDENTITY = ascii('},"localIdentity":');
const ROLE = ascii(',"role":');
const CLIENT = ascii('"client"');
const ROLE_CLIENT = ascii('"ROLE_CLIENT"');
const SERVER = ascii('"server"');
const ROLE_SERVER = ascii('"ROLE_SERVER"');
const PROTOCOL = ascii(',"protocol":');
const TCP = ascii('"tcp"');
const UDP = ascii('"udp"');
const START_MS = ascii(',"startMs":');
const END_MS = ascii(',"endMs":');
const BYTES_SENT = ascii(',"bytesSent":');
const BYTES_RECEIVED = ascii(',"bytesReceived":');
const PACKETS_SENT = ascii(',"packetsSent":');
const PACKETS_RECEIVED = ascii(',"packetsReceived":');
const RETRANSMITS = ascii(',"retransmits":');
const RTT_US = ascii(',"rttUs":');
const CONNECTIONS = ascii(',"connections":');
const APP = ascii('"app":');
const CLUSTER = ascii('"cluster":');
const INSTANCE = ascii('"instance":');
const ACCOUNT = ascii('"account":');
const REGION = ascii('"region":');
const ZONE = ascii('"zone":');

const IDENTITY_APP = 1;
const IDENTITY_CLUSTER = 2;
const IDENTITY_INSTANCE = 4;
const IDENTITY_ACCOUNT = 8;
const IDENTITY_REGION = 16;
const IDENTITY_ZONE = 32;

/**
 * Reads, from its bytes, a JSON line written the way exporters write a `FlowRecord`: every field
 * present in declaration order (`local`, `remote`, `localIdentity`, `role`, `protocol`, `startMs`
 * ... `connections`), no whitespace, ASCII strings without escapes. It builds the flow straight
 * from the bytes, without decoding the line or the intermediate objects `JSON.parse` makes; a
 * host's identity, the same on each of its records, is recognised by its bytes and read once.
 * Anything else (another order, a missing field, an escape, a value the general reader would
 * refuse) gives undefined, and the line goes to the general reader, which reads it or rejects it
 * with its reason: this reader only accepts lines the general one reads to the same flow.
 */
class CanonicalLineScanner {
  private bytes: Uint8Array = new Uint8Array(0);
  private at = 0;
  private end = 0;
  private readonly identityBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(IDENTITY_SLOTS).fill(undefined);
  private readonly identities: (WorkloadIdentity | undefined)[] = new Array<WorkloadIdentity | undefined>(IDENTITY_SLOTS).fill(undefined);
  private readonly ipv4Texts = new Map<number, string>();

  scan(bytes: Uint8Array, start: number, end: number, region: string | undefined): ObservedFlow | undefined {
    this.bytes = bytes;
    this.at = start;
    this.end = end;
    if (!this.literal(LOCAL_IP)) return undefined;
    const localIp = this.ip();
    if (localIp === undefined || !this.literal(PORT)) return undefined;
    const localPort = this.integer();
    if (localPort < 0 || localPort > 65535 || !this.literal(REMOTE_IP)) return undefined;
    const remoteIp = this.ip();
    if (remoteIp === undefined || !this.literal(PORT)) return undefined;
    const remotePort = this.integer();
    if (remotePort < 0 || remotePort > 65535 || !this.literal(LOCAL_IDENTITY)) return undefined;
    const identity = this.identity();
    if (identity === undefined || !this.literal(ROLE)) return undefined;
    const role = this.literal(CLIENT) || this.literal(ROLE_CLIENT) ? 'client' : this.literal(SERVER) || this.literal(ROLE_SERVER) ? 'server' : undefined;
    if (role === undefined || !this.literal(PROTOCOL)) return undefined;
    const protocol = this.literal(TCP) ? 'tcp' : this.literal(UDP) ? 'udp' : this.otherProtocol();
    if (protocol === undefined || !this.literal(START_MS)) return undefined;
    const startMs = this.integer();
    if (startMs < 0 || !this.literal(END_MS)) return undefined;
    const endMs = this.integer();
    if (endMs < startMs || !this.literal(BYTES_SENT)) return undefined;
    const bytesSent = this.integer();
    if (bytesSent < 0 || !this.literal(BYTES_RECEIVED)) return undefined;
    const bytesReceived = this.integer();
    if (bytesReceived < 0 || !this.literal(PACKETS_SENT)) return undefined;
    const packetsSent = this.integer();
    if (packetsSent < 0 || !this.literal(PACKETS_RECEIVED)) return undefined;
    const packetsReceived = this.integer();
    if (packetsReceived < 0 || !this.literal(RETRANSMITS)) return undefined;
    const retransmits = this.integer();
    if (retransmits < 0 || !this.literal(RTT_US)) return undefined;
    const rttUs = this.integer();
    if (rttUs < 0 || !this.literal(CONNECTIONS)) return undefined;
    const connections = this.integer();
    if (connections < 0 || this.at + 1 !== end || bytes[this.at] !== CLOSE_BRACE) return undefined;
    return orientedFlow(localIp, localPort, identity, remoteIp, remotePort, role, protocol, startMs, endMs, bytesSent, bytesReceived, packetsSent, packetsReceived, retransmits, rttUs, connections, region);
  }

  private literal(expected: Uint8Array): boolean {
    const bytes = this.bytes;
    const at = this.at;
    const length = expected.length;
    if (at + length > this.end) return false;
    for (let i = 0; i < length; i++) if (bytes[at + i] !== expected[i]) return false;
    this.at = at + length;
    return true;
  }

  /** The position of the closing quote of a printable ASCII string without escapes starting here, or -1. */
  private stringEnd(): number {
    const bytes = this.bytes;
    if (bytes[this.at] !== QUOTE) return -1;
    const end = this.end;
    for (let i = this.at + 1; i < end; i++) {
      const c = bytes[i] as number;
      if (c === QUOTE) return i;
      if (c === BACKSLASH || c < 32 || c > 126) return -1;
    }
    return -1;
  }

  private string(): string | undefined {
    const close = this.stringEnd();
    if (close < 0) return undefined;
    const text = utf8KeepingBom.decode(this.bytes.subarray(this.at + 1, close));
    this.at = close + 1;
    return text;
  }

  private otherProtocol(): string | undefined {
    const text = this.string();
    if (text === undefined) return undefined;
    const protocol = readProtocol(text);
    return protocol instanceof RecordProblem ? undefined : protocol;
  }

  private ip(): string | undefined {
    const close = this.stringEnd();
    if (close < 0) return undefined;
    const v4 = dottedQuadValue(this.bytes, this.at + 1, close);
    let ip: string | undefined;
    if (v4 >= 0) {
      ip = this.ipv4Texts.get(v4);
      if (ip === undefined) {
        ip = this.string();
        if (ip === undefined || normalizeIp(ip) !== ip) return undefined;
        if (this.ipv4Texts.size >= MAX_IPV4_TEXTS) this.ipv4Texts.clear();
        this.ipv4Texts.set(v4, ip);
      }
      this.at = close + 1;
      return ip;
    }
    const text = this.string();
    return text === undefined || text === '' ? undefined : normalizeIp(text);
  }

  /** A non-negative integer as a number or a decimal string (proto3 int64); INVALID otherwise. */
  private integer(): number {
    const bytes = this.bytes;
    let i = this.at;
    const quoted = bytes[i] === QUOTE;
    if (quoted) i++;
    const first = i;
    const end = this.end;
    let n = 0;
    while (i < end) {
      const d = (bytes[i] as number) - ZERO;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
      i++;
    }
    const digits = i - first;
    // JSON refuses a number with a leading zero; a decimal string may have one.
    if (digits === 0 || digits > MAX_SCANNED_DIGITS || (!quoted && digits > 1 && bytes[first] === ZERO)) return INVALID;
    if (quoted) {
      if (i >= end || bytes[i] !== QUOTE) return INVALID;
      i++;
    }
    this.at = i;
    return n;
  }

  /**
   * The identity object starting here. A host writes the same identity on every record, so its
   * bytes are looked up (by a hash, then compared whole) before they are read, and the flows of
   * one host share one identity object.
   */
  private identity(): WorkloadIdentity | undefined {
    const bytes = this.bytes;
    const start = this.at;
    if (bytes[start] !== OPEN_BRACE) return undefined;
    let close = start + 1;
    let hash = 0;
    const end = this.end;
    while (close < end && bytes[close] !== CLOSE_BRACE) hash = (Math.imul(hash, 31) + (bytes[close++] as number)) | 0;
    if (close >= end) return undefined;
    const slot = hash & (IDENTITY_SLOTS - 1);
    const known = this.identityBytes[slot];
    if (known !== undefined && known.length === close + 1 - start && sameBytes(known, bytes, start)) {
      this.at = close + 1;
      return this.identities[slot];
    }
    const identity = this.readIdentity();
    // Only an identity whose first closing brace ends it is found again by the lookup above.
    if (identity !== undefined && this.at === close + 1) {
      this.identityBytes[slot] = bytes.slice(start, close + 1);
      this.identities[slot] = identity;
    }
    return identity;
  }

  /** An object of string fields of `WorkloadIdentity`, each at most once, naming an app or a cluster. */
  private readIdentity(): WorkloadIdentity | undefined {
    this.at++;
    let app = '';
    let cluster = '';
    let instance = '';
    let account = '';
    let region = '';
    let zone = '';
    let seen = 0;
    for (;;) {
      const field = this.literal(APP)
        ? IDENTITY_APP
        : this.literal(CLUSTER)
          ? IDENTITY_CLUSTER
          : this.literal(INSTANCE)
            ? IDENTITY_INSTANCE
            : this.literal(ACCOUNT)
              ? IDENTITY_ACCOUNT
              : this.literal(REGION)
                ? IDENTITY_REGION
                : this.literal(ZONE)
                  ? IDENTITY_ZONE
                  : 0;
      if (field === 0 || (seen & field) !== 0) return undefined;
      seen |= field;
      const value = this.string();
      if (value === undefined) return undefined;
      if (field === IDENTITY_APP) app = value;
      else if (field === IDENTITY_CLUSTER) cluster = value;
      else if (field === IDENTITY_INSTANCE) instance = value;
      else if (field === IDENTITY_ACCOUNT) account = value;
      else if (field === IDENTITY_REGION) region = value;
      else zone = value;
      if (this.at >= this.end) return undefined;
      const next = this.bytes[this.at++];
      if (next === CLOSE_BRACE) break;
      if (next !== COMMA) return undefined;
    }
    if (app === '' && cluster === '') return undefined;
    if ((app !== '' && !isNameToken(app)) || (cluster !== '' && !isNameToken(cluster))) return undefined;
    const identity: WorkloadIdentity = { app: app === '' ? parseClusterName(cluster).app : app, cluster: cluster === '' ? app : cluster };
    if (instance !== '') identity.instance = instance;
    if (account !== '') identity.account = account;
    if (region !== '') identity.region = region;
    if (zone !== '') identity.zone = zone;
    return identity;
  }
}

function sameBytes(expected: Uint8Array, bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

/** The address of a dotted quad as `isDottedQuad` accepts it, from bytes; -1 for anything else. */
function dottedQuadValue(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length < 7 || length > 15) return -1;
  let octets = 0;
  let digits = 0;
  let octet = 0;
  let value = 0;
  let leadingZero = false;
  for (let i = start; i <= end; i++) {
    const c = i === end ? DOT : (bytes[i] as number);
    if (c === DOT) {
      if (digits === 0 || octet > 255 || (leadingZero && digits > 1)) return -1;
      value = value * 256 + octet;
      octets++;
      digits = 0;
      octet = 0;
      continue;
    }
    if (c < ZERO || c > ZERO + 9 || digits === 3) return -1;
    if (digits === 0) leadingZero = c === ZERO;
    octet = octet * 10 + (c - ZERO);
    digits++;
  }
  return octets === 4 ? value : -1;
}
