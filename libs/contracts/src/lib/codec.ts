import * as path from 'path';
import * as protobuf from 'protobufjs';
import type { IntermediaryType, Peer, UnknownReason } from '@topology/model';
import { INTERMEDIARY_TYPES, UNKNOWN_REASONS } from '@topology/model';
import type {
  DeadLetterMsg,
  EdgeContribution,
  FlowAggregate,
  FlowPartialSnapshot,
  FlowRecord,
  IpOwnership,
  MetadataEvent,
} from './messages';
import { PIPELINE_PROTO_FILES, protoDir } from './proto-files';

type Plain = Record<string, unknown>;

let root: protobuf.Root | undefined;

function pipelineRoot(): protobuf.Root {
  if (root) return root;
  const dir = protoDir();
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => path.join(dir, target);
  r.loadSync(PIPELINE_PROTO_FILES, { keepCase: false });
  r.resolveAll();
  root = r;
  return r;
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, arrays: true, oneofs: false, bytes: Uint8Array as never };

function encodeWith(typeName: string, value: Plain): Uint8Array {
  const type = pipelineRoot().lookupType(typeName);
  return type.encode(type.fromObject(value)).finish();
}

function decodeWith(typeName: string, bytes: Uint8Array): Plain {
  const type = pipelineRoot().lookupType(typeName);
  return type.toObject(type.decode(bytes), TO_OBJECT) as Plain;
}

const INTERMEDIARY_ENUM: Record<IntermediaryType, string> = {
  'load-balancer': 'INTERMEDIARY_TYPE_LOAD_BALANCER',
  'nat-gateway': 'INTERMEDIARY_TYPE_NAT_GATEWAY',
  'api-gateway': 'INTERMEDIARY_TYPE_API_GATEWAY',
  proxy: 'INTERMEDIARY_TYPE_PROXY',
};

export function intermediaryTypeToEnum(t: IntermediaryType): string {
  return INTERMEDIARY_ENUM[t];
}

/** Accepts the proto enum name, its number, or the model's name (`load-balancer`). */
export function intermediaryTypeFromEnum(v: unknown): IntermediaryType | undefined {
  if (typeof v === 'string' && (INTERMEDIARY_TYPES as readonly string[]).includes(v)) return v as IntermediaryType;
  for (const t of INTERMEDIARY_TYPES) {
    if (v === INTERMEDIARY_ENUM[t] || v === INTERMEDIARY_TYPES.indexOf(t) + 1) return t;
  }
  return undefined;
}

function opt(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function peerToPlain(p: Peer): Plain {
  switch (p.kind) {
    case 'workload':
      return { workload: { app: p.app, cluster: p.cluster, region: p.region ?? '', account: p.account ?? '' } };
    case 'intermediary':
      return { intermediary: { id: p.id, type: INTERMEDIARY_ENUM[p.type], name: p.name ?? '', region: p.region ?? '' } };
    case 'external':
      return { external: { name: p.name, cidr: p.cidr ?? '' } };
    case 'unknown':
      return { unknown: { reason: p.reason, ip: p.ip, region: p.region ?? '' } };
  }
}

function peerFromPlain(v: Plain): Peer {
  const w = v['workload'] as Plain | null | undefined;
  if (w) {
    return strip({ kind: 'workload', app: String(w['app']), cluster: String(w['cluster']), region: opt(w['region']), account: opt(w['account']) });
  }
  const i = v['intermediary'] as Plain | null | undefined;
  if (i) {
    return strip({ kind: 'intermediary', id: String(i['id']), type: intermediaryTypeFromEnum(i['type']) ?? 'proxy', name: opt(i['name']), region: opt(i['region']) });
  }
  const e = v['external'] as Plain | null | undefined;
  if (e) return strip({ kind: 'external', name: String(e['name']), cidr: opt(e['cidr']) });
  const u = v['unknown'] as Plain | null | undefined;
  if (u) {
    const reason = (UNKNOWN_REASONS as readonly string[]).includes(String(u['reason'])) ? (u['reason'] as UnknownReason) : 'missing-address';
    return strip({ kind: 'unknown', reason, ip: String(u['ip']), region: opt(u['region']) });
  }
  throw new Error('peer with no kind set');
}

/** Drops keys whose value is undefined, so decoded values compare equal to the originals. */
function strip<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

const OBSERVER_ENUM = { client: 'OBSERVER_CLIENT', server: 'OBSERVER_SERVER', network: 'OBSERVER_NETWORK' } as const;

function aggregateToPlain(a: FlowAggregate): Plain {
  return { ...a, src: peerToPlain(a.src), dst: peerToPlain(a.dst), observer: OBSERVER_ENUM[a.observer] };
}

function aggregateFromPlain(v: Plain): FlowAggregate {
  return {
    src: peerFromPlain(v['src'] as Plain),
    dst: peerFromPlain(v['dst'] as Plain),
    dstPort: v['dstPort'] as number,
    protocol: v['protocol'] as string,
    observer: v['observer'] === 'OBSERVER_SERVER' ? 'server' : v['observer'] === 'OBSERVER_NETWORK' ? 'network' : 'client',
    bytesSent: v['bytesSent'] as number,
    bytesReceived: v['bytesReceived'] as number,
    packetsSent: v['packetsSent'] as number,
    packetsReceived: v['packetsReceived'] as number,
    connections: v['connections'] as number,
    retransmits: v['retransmits'] as number,
    rttSumUs: v['rttSumUs'] as number,
    rttSamples: v['rttSamples'] as number,
    firstSeenMs: v['firstSeenMs'] as number,
    lastSeenMs: v['lastSeenMs'] as number,
    via: v['via'] as string[],
    confidence: v['confidence'] as number,
  };
}

export const FlowPartialSnapshotCodec = {
  encode(s: FlowPartialSnapshot): Uint8Array {
    return encodeWith('topology.pipeline.v1.FlowPartialSnapshot', { ...s, entries: s.entries.map(aggregateToPlain) });
  },
  decode(bytes: Uint8Array): FlowPartialSnapshot {
    const v = decodeWith('topology.pipeline.v1.FlowPartialSnapshot', bytes);
    const w = v['window'] as Plain;
    return {
      window: { startMs: w['startMs'] as number, endMs: w['endMs'] as number },
      scope: v['scope'] as string,
      key: v['key'] as string,
      entries: (v['entries'] as Plain[]).map(aggregateFromPlain),
      ingestedAtMs: v['ingestedAtMs'] as number,
    };
  },
};

export const EdgeContributionCodec = {
  encode(c: EdgeContribution): Uint8Array {
    return encodeWith('topology.pipeline.v1.EdgeContribution', { ...c, src: peerToPlain(c.src), dst: peerToPlain(c.dst) });
  },
  decode(bytes: Uint8Array): EdgeContribution {
    const v = decodeWith('topology.pipeline.v1.EdgeContribution', bytes);
    const w = v['window'] as Plain;
    return {
      ...(v as unknown as EdgeContribution),
      window: { startMs: w['startMs'] as number, endMs: w['endMs'] as number },
      src: peerFromPlain(v['src'] as Plain),
      dst: peerFromPlain(v['dst'] as Plain),
      ports: (v['ports'] as Plain[]).map((p) => ({ port: p['port'] as number, protocol: p['protocol'] as string })),
    };
  },
};

export const IpOwnershipCodec = {
  encode(o: IpOwnership): Uint8Array {
    return encodeWith('topology.pipeline.v1.IpOwnership', { ...o });
  },
  decode(bytes: Uint8Array): IpOwnership {
    const v = decodeWith('topology.pipeline.v1.IpOwnership', bytes);
    return strip({
      ip: v['ip'] as string,
      app: v['app'] as string,
      cluster: v['cluster'] as string,
      region: opt(v['region']),
      account: opt(v['account']),
      fromMs: v['fromMs'] as number,
      toMs: v['toMs'] as number,
    });
  },
};

export const DeadLetterCodec = {
  encode(d: DeadLetterMsg): Uint8Array {
    return encodeWith('topology.pipeline.v1.DeadLetter', { ...d });
  },
  decode(bytes: Uint8Array): DeadLetterMsg {
    return decodeWith('topology.pipeline.v1.DeadLetter', bytes) as unknown as DeadLetterMsg;
  },
};

/** Protobuf FlowRecordBatch → plain objects in the proto3 JSON shape; the flow parser validates them. */
export function decodeFlowRecordBatch(bytes: Uint8Array): Plain[] {
  const v = decodeWith('topology.pipeline.v1.FlowRecordBatch', bytes);
  return v['records'] as Plain[];
}

export function encodeFlowRecordBatch(records: FlowRecord[]): Uint8Array {
  return encodeWith('topology.pipeline.v1.FlowRecordBatch', {
    records: records.map((r) => ({ ...r, role: r.role === 'client' ? 'ROLE_CLIENT' : 'ROLE_SERVER' })),
  });
}

/** Protobuf MetadataEvent → the plain shape of `MetadataEvent` (unvalidated). */
export function decodeMetadataEvent(bytes: Uint8Array): Plain {
  const type = pipelineRoot().lookupType('topology.pipeline.v1.MetadataEvent');
  return type.toObject(type.decode(bytes), { longs: Number, enums: String, defaults: false }) as Plain;
}

export function encodeMetadataEvent(event: MetadataEvent): Uint8Array {
  const plain = JSON.parse(JSON.stringify(event)) as Plain;
  const withEnums = (o: Plain | undefined, field: string) => {
    if (o && typeof o[field] === 'string') o[field] = intermediaryTypeToEnum(o[field] as IntermediaryType);
  };
  withEnums(plain['ipAssignment'] as Plain | undefined, 'type');
  withEnums(plain['app'] as Plain | undefined, 'intermediaryType');
  return encodeWith('topology.pipeline.v1.MetadataEvent', plain);
}
