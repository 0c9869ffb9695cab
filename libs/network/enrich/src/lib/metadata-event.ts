import { isIP } from 'net';
import type { AppMetadata, DeadLetterReason, ExternalRange, HealthEvent, IntermediaryListener, IpAssignment, MetadataEvent, Rejection } from '@topology/contracts';
import { intermediaryTypeFromEnum } from '@topology/contracts';
import type { Health, IntermediaryType } from '@topology/model';
import { HEALTH_STATES, isNodeId } from '@topology/model';

/*
 * Metadata events arrive as proto3 JSON (a line of the all-in-one's metadata file) or as the plain
 * object the protobuf codec decodes. Both follow the proto3 JSON mapping: field names in
 * lowerCamelCase or as written in the .proto, int64 as a number or a decimal string, enums by name
 * or number, and an absent field, `null` or the type's default all mean "not set".
 */

type Plain = Record<string, unknown>;

class Invalid {
  constructor(
    readonly reason: DeadLetterReason,
    readonly message: string,
  ) {}
}

const EVENT_KINDS = [
  ['ipAssignment', 'ip_assignment'],
  ['listener', 'listener'],
  ['app', 'app'],
  ['health', 'health'],
  ['externalRange', 'external_range'],
] as const;
type EventKind = (typeof EVENT_KINDS)[number][0];

const WHITESPACE = /\s/;
const DECIMAL_INTEGER = /^-?\d+$/;
const UNSPECIFIED_TYPES: readonly unknown[] = ['INTERMEDIARY_TYPE_UNSPECIFIED', 0];

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(o: Plain, camel: string, snake: string): unknown {
  const v = o[camel] ?? o[snake];
  return v === null ? undefined : v;
}

function optionalString(o: Plain, camel: string, snake: string, where: string): string | undefined {
  const v = field(o, camel, snake);
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new Invalid('invalid-value', `${where}.${camel} must be a string`);
  return v;
}

function requiredString(o: Plain, camel: string, snake: string, where: string): string {
  const v = optionalString(o, camel, snake, where);
  if (v === undefined) throw new Invalid('missing-field', `${where}.${camel} is required`);
  return v;
}

/** A name that becomes part of a node id, so it may not contain whitespace. */
function requiredName(o: Plain, camel: string, snake: string, where: string): string {
  const v = requiredString(o, camel, snake, where);
  if (WHITESPACE.test(v)) throw new Invalid('invalid-value', `${where}.${camel} contains whitespace: ${JSON.stringify(v)}`);
  return v;
}

function integer(o: Plain, camel: string, snake: string, where: string): number | undefined {
  const v = field(o, camel, snake);
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && DECIMAL_INTEGER.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new Invalid('invalid-value', `${where}.${camel} must be a whole number, got ${JSON.stringify(v)}`);
  return n;
}

function epochMs(o: Plain, camel: string, snake: string, where: string): number {
  const v = integer(o, camel, snake, where) ?? 0;
  if (v < 0) throw new Invalid('invalid-time', `${where}.${camel} is negative: ${v}`);
  return v;
}

function intermediaryType(o: Plain, camel: string, snake: string, where: string): IntermediaryType | undefined {
  const v = field(o, camel, snake);
  if (v === undefined || UNSPECIFIED_TYPES.includes(v)) return undefined;
  const type = intermediaryTypeFromEnum(v);
  if (type === undefined) throw new Invalid('invalid-value', `${where}.${camel} is not an intermediary type: ${JSON.stringify(v)}`);
  return type;
}

function validIp(ip: string, where: string): string {
  if (isIP(ip) === 0) throw new Invalid('invalid-value', `${where} is not an IP address: ${JSON.stringify(ip)}`);
  return ip;
}

function validCidr(cidr: string, where: string): string {
  const slash = cidr.indexOf('/');
  const family = slash > 0 ? isIP(cidr.slice(0, slash)) : 0;
  const prefix = cidr.slice(slash + 1);
  const bits = DECIMAL_INTEGER.test(prefix) ? Number(prefix) : -1;
  if (family === 0 || bits < 0 || bits > (family === 4 ? 32 : 128)) {
    throw new Invalid('invalid-value', `${where} is not a CIDR range: ${JSON.stringify(cidr)}`);
  }
  return cidr;
}

/** Drops keys whose value is undefined, so parsed events compare equal to hand-written ones. */
function strip<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function parseIpAssignment(o: Plain): IpAssignment {
  const where = 'ipAssignment';
  const ip = validIp(requiredString(o, 'ip', 'ip', where), `${where}.ip`);
  const intermediaryId = requiredName(o, 'intermediaryId', 'intermediary_id', where);
  const type = intermediaryType(o, 'type', 'type', where);
  if (type === undefined) throw new Invalid('missing-field', `${where}.type is required`);
  const fromMs = epochMs(o, 'fromMs', 'from_ms', where);
  const toMs = epochMs(o, 'toMs', 'to_ms', where);
  if (toMs !== 0 && toMs <= fromMs) throw new Invalid('invalid-time', `${where} ends (${toMs}) before it starts (${fromMs})`);
  return strip({
    ip,
    intermediaryId,
    type,
    name: optionalString(o, 'name', 'name', where),
    region: optionalString(o, 'region', 'region', where),
    fromMs,
    toMs: toMs === 0 ? undefined : toMs,
  });
}

function parseListener(o: Plain): IntermediaryListener {
  const where = 'listener';
  const intermediaryId = requiredName(o, 'intermediaryId', 'intermediary_id', where);
  const port = integer(o, 'port', 'port', where);
  if (port === undefined || port === 0) throw new Invalid('missing-field', `${where}.port is required`);
  if (port < 1 || port > 65_535) throw new Invalid('invalid-value', `${where}.port is out of range: ${port}`);
  const targets = field(o, 'targetClusters', 'target_clusters') ?? [];
  if (!Array.isArray(targets)) throw new Invalid('invalid-value', `${where}.targetClusters must be a list of cluster names`);
  const targetClusters: string[] = [];
  for (const t of targets) {
    if (typeof t !== 'string' || t.length === 0 || WHITESPACE.test(t)) {
      throw new Invalid('invalid-value', `${where}.targetClusters holds something that is not a cluster name: ${JSON.stringify(t)}`);
    }
    targetClusters.push(t);
  }
  // An empty target list is a valid update: every target was deregistered.
  return { intermediaryId, port, targetClusters };
}

function parseApp(o: Plain): AppMetadata {
  const where = 'app';
  return strip({
    app: requiredName(o, 'app', 'app', where),
    owner: optionalString(o, 'owner', 'owner', where),
    domain: optionalString(o, 'domain', 'domain', where),
    tier: optionalString(o, 'tier', 'tier', where),
    intermediaryType: intermediaryType(o, 'intermediaryType', 'intermediary_type', where),
  });
}

function parseHealth(o: Plain): HealthEvent {
  const where = 'health';
  const nodeId = requiredString(o, 'nodeId', 'node_id', where);
  if (!isNodeId(nodeId)) throw new Invalid('invalid-value', `${where}.nodeId is not a node id: ${JSON.stringify(nodeId)}`);
  const health = requiredString(o, 'health', 'health', where);
  if (!(HEALTH_STATES as readonly string[]).includes(health)) {
    throw new Invalid('invalid-value', `${where}.health must be one of ${HEALTH_STATES.join(', ')}, got ${JSON.stringify(health)}`);
  }
  return { nodeId, health: health as Health, atMs: epochMs(o, 'atMs', 'at_ms', where) };
}

function parseExternalRange(o: Plain): ExternalRange {
  const where = 'externalRange';
  const cidr = validCidr(requiredString(o, 'cidr', 'cidr', where), `${where}.cidr`);
  return { cidr, name: requiredName(o, 'name', 'name', where) };
}

function parseKind(kind: EventKind, body: Plain): MetadataEvent {
  switch (kind) {
    case 'ipAssignment':
      return { ipAssignment: parseIpAssignment(body) };
    case 'listener':
      return { listener: parseListener(body) };
    case 'app':
      return { app: parseApp(body) };
    case 'health':
      return { health: parseHealth(body) };
    case 'externalRange':
      return { externalRange: parseExternalRange(body) };
  }
}

function rawText(plain: unknown): string {
  try {
    return JSON.stringify(plain) ?? String(plain);
  } catch {
    return String(plain);
  }
}

/**
 * Validates one metadata event in its proto3 JSON shape. Exactly one event field must be set; an
 * intermediary type is accepted as the model's name (`load-balancer`), the proto enum name or its
 * number. Never throws: what cannot be used comes back as a `Rejection`.
 */
export function parseMetadataEvent(plain: unknown): MetadataEvent | Rejection {
  try {
    if (!isPlain(plain)) throw new Invalid('malformed', 'a metadata event must be a JSON object');
    const set: EventKind[] = [];
    let body: unknown;
    for (const [camel, snake] of EVENT_KINDS) {
      const v = field(plain, camel, snake);
      if (v === undefined) continue;
      set.push(camel);
      body = v;
    }
    const [kind] = set;
    if (kind === undefined) {
      const keys = Object.keys(plain);
      if (keys.length === 0) throw new Invalid('missing-field', 'no event is set');
      throw new Invalid('invalid-value', `not a metadata event kind: ${keys.join(', ')}`);
    }
    if (set.length > 1) throw new Invalid('invalid-value', `exactly one event must be set, got ${set.join(', ')}`);
    if (!isPlain(body)) throw new Invalid('malformed', `${kind} must be an object`);
    return parseKind(kind, body);
  } catch (e) {
    if (e instanceof Invalid) return { reason: e.reason, message: e.message, raw: rawText(plain) };
    throw e;
  }
}

export function isRejection(v: MetadataEvent | Rejection): v is Rejection {
  return 'reason' in v && 'raw' in v;
}

/**
 * Reads the all-in-one's metadata file: one proto3 JSON event per line; blank lines are skipped.
 * A rejection's `raw` is the offending line and its message names the line number.
 */
export function readMetadataJsonLines(text: string): { events: MetadataEvent[]; rejections: Rejection[] } {
  const events: MetadataEvent[] = [];
  const rejections: Rejection[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line.length === 0) continue;
    let plain: unknown;
    try {
      plain = JSON.parse(line);
    } catch (e) {
      rejections.push({ reason: 'malformed', message: `line ${i + 1}: not JSON (${(e as Error).message})`, raw: line });
      continue;
    }
    const parsed = parseMetadataEvent(plain);
    if (isRejection(parsed)) rejections.push({ reason: parsed.reason, message: `line ${i + 1}: ${parsed.message}`, raw: line });
    else events.push(parsed);
  }
  return { events, rejections };
}
