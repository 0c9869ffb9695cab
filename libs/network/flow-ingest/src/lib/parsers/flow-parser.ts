import type { DeadLetterReason, Rejection } from '@topology/contracts';
import { CounterSet } from '@topology/model';
import type { ObservedFlow } from '../observed-flow';

/** What a parser made of one payload: the flows it understood and a rejection per line it did not. */
export interface ParseResult {
  flows: ObservedFlow[];
  rejections: Rejection[];
}

/**
 * Turns one message payload of a flow format into observed flows. Never throws: a malformed line
 * (or payload) becomes a rejection with a reason code, and the good lines beside it still parse.
 */
export interface FlowParser {
  parse(payload: Uint8Array | string): ParseResult;
}

/** Counters of every flow parser; one set is shared by the parsers of a partition. */
export const FLOW_PARSER_COUNTERS = {
  canonical_records_parsed: 'Canonical flow records (JSON lines or protobuf) turned into observed flows.',
  canonical_records_rejected: 'Canonical flow records rejected, by reason.',
  vpc_records_parsed: 'VPC flow log records turned into observed flows.',
  vpc_records_no_data: 'VPC flow log records skipped: NODATA or SKIPDATA, or no address at all (`-`).',
  vpc_records_action_reject: 'VPC flow log records of traffic a security group or network ACL rejected: not a dependency, not emitted.',
  vpc_header_lines: 'VPC flow log header lines (the field names, as S3 delivery writes them) skipped.',
  vpc_records_rejected: 'VPC flow log records rejected, by reason.',
  vpc_memory_evicted: 'Connections and server endpoints a VPC parser forgot because its memory was full (orientation falls back to ports).',
  vpc_orientation: 'How the client and server of VPC records were decided, by rule (tcp-flags, known-connection, listener, aws-service, ports, record-order).',
  hubble_flows_counted: 'Hubble flows counted as evidence of a connection (requests, not replies).',
  hubble_flows_dropped_verdict: 'Hubble flows skipped because the packet was dropped or errored (no connection formed).',
  hubble_flows_reply: 'Hubble flows skipped because they are the reply direction of a connection.',
  hubble_flows_not_connection: 'Hubble events skipped that are not connection flows (no IP layer, socket events, node status).',
  hubble_connections_counted: 'TCP connections counted from Hubble SYNs, once per connection.',
  hubble_duplicate_syn: 'Hubble SYNs of a connection already counted (another observation point, or a retransmission).',
  hubble_connection_keys_evicted: 'Connection keys dropped from the Hubble de-duplication set because it was full.',
  hubble_records_rejected: 'Hubble lines rejected, by reason.',
  payloads_unsupported: 'Payloads whose content type or VPC format no parser reads.',
} as const;

export type FlowParserCounter = keyof typeof FLOW_PARSER_COUNTERS;

export function newFlowParserCounters(): CounterSet<FlowParserCounter> {
  return new CounterSet<FlowParserCounter>(FLOW_PARSER_COUNTERS);
}

/**
 * A failed check inside a parser. Parsers return it instead of throwing so the hot path pays for
 * an object only when a record is bad.
 */
export class RecordProblem {
  constructor(
    readonly reason: DeadLetterReason,
    readonly message: string,
  ) {}
}

export function rejection(problem: RecordProblem, raw: string | Uint8Array): Rejection {
  return { reason: problem.reason, message: problem.message, raw };
}

/** Counts rejections per reason into a counter in one pass at the end of a payload. */
export function countRejections(counters: CounterSet<FlowParserCounter>, name: FlowParserCounter, rejections: readonly Rejection[], from = 0): void {
  for (let i = from; i < rejections.length; i++) counters.inc(name, 1, (rejections[i] as Rejection).reason);
}

const utf8 = new TextDecoder('utf-8');

export function payloadText(payload: Uint8Array | string): string {
  return typeof payload === 'string' ? payload : utf8.decode(payload);
}

/**
 * Calls `onLine` for every non-blank line of a text payload (LF or CRLF), without splitting the
 * whole payload into an array first.
 */
export function forEachLine(text: string, onLine: (line: string) => void): void {
  const length = text.length;
  let start = 0;
  while (start < length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = length;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
    if (!isBlank(text, start, stop)) onLine(text.slice(start, stop));
    start = end + 1;
  }
}

function isBlank(text: string, start: number, stop: number): boolean {
  for (let i = start; i < stop; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

const PROTOCOL_NAMES: Record<number, string> = {
  1: 'icmp',
  2: 'igmp',
  4: 'ipv4',
  6: 'tcp',
  17: 'udp',
  41: 'ipv6',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'ipv6-icmp',
  132: 'sctp',
};

/** Lower-case IANA keyword of a protocol number; the number itself when it has no common keyword. */
export function protocolName(number: number): string {
  return PROTOCOL_NAMES[number] ?? String(number);
}

/** True when the name is usable as a node id part (non-empty, no whitespace or control characters). */
export function isNameToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) <= 32) return false;
  return true;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short, quoted rendering of an offending value for a rejection message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}
