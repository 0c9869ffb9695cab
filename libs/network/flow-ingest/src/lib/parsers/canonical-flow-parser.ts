import type { Rejection } from '@topology/contracts';
import { decodeFlowRecordBatch } from '@topology/contracts';
import type { CounterSet, WorkloadIdentity } from '@topology/model';
import { parseClusterName } from '@topology/model';
import type { ObservedEnd, ObservedFlow } from '../observed-flow';
import type { FlowParser, FlowParserCounter, ParseResult } from './flow-parser';
import { countRejections, describe, forEachLine, isNameToken, isObject, newFlowParserCounters, payloadText, protocolName, RecordProblem, rejection } from './flow-parser';
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

  constructor(options: CanonicalFlowParserOptions = {}) {
    this.region = options.region;
    this.counters = options.counters ?? newFlowParserCounters();
  }

  parse(payload: Uint8Array | string): ParseResult {
    const flows: ObservedFlow[] = [];
    const rejections: Rejection[] = [];
    forEachLine(payloadText(payload), (line) => {
      const flow = this.parseLine(line);
      if (flow instanceof RecordProblem) rejections.push(rejection(flow, line));
      else flows.push(flow);
    });
    this.counters.inc('canonical_records_parsed', flows.length);
    countRejections(this.counters, 'canonical_records_rejected', rejections);
    return { flows, rejections };
  }

  parseLine(line: string): ObservedFlow | RecordProblem {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      return new RecordProblem('malformed', `not JSON: ${(error as Error).message}`);
    }
    return observedFlowFromRecord(record, this.region);
  }
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
