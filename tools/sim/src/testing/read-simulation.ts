import type { FlowRecord, MetadataEvent } from '@topology/contracts';
import { NAT_FLOW_LOG_FIELDS } from '../lib/nat-flow-log';
import { ipToInt } from '../lib/fleet';
import type { SimulationBatch } from '../lib/traffic';

/**
 * Test support: reads a simulation's output the way a consumer would (records, NAT log lines and
 * metadata only, never the fleet plan), so the tests check the output itself.
 */

export interface SimulationOutput {
  flows: FlowRecord[];
  natFlowLog: string[];
  metadata: MetadataEvent[];
  /** Window start of every record, parallel to `flows` (the batch it came in). */
  batchStartMs: number[];
}

export function collect(batches: Iterable<SimulationBatch>): SimulationOutput {
  const out: SimulationOutput = { flows: [], natFlowLog: [], metadata: [], batchStartMs: [] };
  for (const b of batches) {
    for (const f of b.flows) {
      out.flows.push(f);
      out.batchStartMs.push(b.window.startMs);
    }
    for (const line of b.natFlowLog) out.natFlowLog.push(line);
    for (const m of b.metadata) out.metadata.push(m);
  }
  return out;
}

export interface NatLine {
  account: string;
  instanceId: string;
  interfaceId: string;
  srcaddr: string;
  dstaddr: string;
  srcport: number;
  dstport: number;
  pktSrcaddr: string;
  pktDstaddr: string;
  protocol: number;
  packets: number;
  bytes: number;
  startS: number;
  endS: number;
  action: string;
  logStatus: string;
  tcpFlags: number;
  direction: string;
  version: number;
}

export function parseNatLine(line: string): NatLine {
  const parts = line.split(' ');
  if (parts.length !== NAT_FLOW_LOG_FIELDS.length) throw new Error(`expected ${NAT_FLOW_LOG_FIELDS.length} fields: ${line}`);
  const field = (name: string): string => parts[NAT_FLOW_LOG_FIELDS.indexOf(name)] ?? '';
  return {
    version: Number(field('version')),
    account: field('account-id'),
    instanceId: field('instance-id'),
    interfaceId: field('interface-id'),
    srcaddr: field('srcaddr'),
    dstaddr: field('dstaddr'),
    srcport: Number(field('srcport')),
    dstport: Number(field('dstport')),
    pktSrcaddr: field('pkt-srcaddr'),
    pktDstaddr: field('pkt-dstaddr'),
    protocol: Number(field('protocol')),
    packets: Number(field('packets')),
    bytes: Number(field('bytes')),
    startS: Number(field('start')),
    endS: Number(field('end')),
    action: field('action'),
    logStatus: field('log-status'),
    tcpFlags: Number(field('tcp-flags')),
    direction: field('flow-direction'),
  };
}

interface OwnedSpan {
  startMs: number;
  endMs: number;
  cluster: string;
  app: string;
  instance: string;
}

/**
 * Who owned each address when, learned only from the records' own side (what each host says about
 * itself): per address, the merged spans each owner's records cover.
 */
export class ReportedOwnership {
  private readonly spans = new Map<string, OwnedSpan[]>();

  constructor(flows: readonly FlowRecord[]) {
    const raw = new Map<string, OwnedSpan[]>();
    for (const f of flows) {
      const id = f.localIdentity;
      const list = raw.get(f.local.ip) ?? [];
      list.push({ startMs: f.startMs, endMs: f.endMs, cluster: id.cluster, app: id.app, instance: id.instance ?? '' });
      raw.set(f.local.ip, list);
    }
    for (const [ip, list] of raw) {
      list.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
      const merged: OwnedSpan[] = [];
      for (const s of list) {
        const last = merged[merged.length - 1];
        if (last && last.instance === s.instance && s.startMs <= last.endMs) last.endMs = Math.max(last.endMs, s.endMs);
        else merged.push({ ...s });
      }
      this.spans.set(ip, merged);
    }
  }

  /** Every distinct owner whose own records cover instant `t`. */
  ownersAt(ip: string, t: number): OwnedSpan[] {
    const list = this.spans.get(ip);
    if (!list) return [];
    const out: OwnedSpan[] = [];
    for (const s of list) {
      if (s.startMs > t) break;
      if (s.endMs >= t && !out.some((o) => o.instance === s.instance)) out.push(s);
    }
    return out;
  }

  /** Addresses whose spans (of different instances) overlap in time. */
  conflicts(): string[] {
    const out: string[] = [];
    for (const [ip, list] of this.spans) {
      for (let i = 1; i < list.length; i++) {
        const prev = list[i - 1] as OwnedSpan;
        const cur = list[i] as OwnedSpan;
        if (cur.instance !== prev.instance && cur.startMs <= prev.endMs) {
          out.push(ip);
          break;
        }
      }
    }
    return out;
  }

  owners(ip: string): OwnedSpan[] {
    return this.spans.get(ip) ?? [];
  }
}

/** Longest-prefix lookup over the metadata's external ranges. */
export class ExternalRanges {
  private readonly ranges: { base: number; mask: number; bits: number; name: string }[] = [];

  constructor(metadata: readonly MetadataEvent[]) {
    for (const e of metadata) {
      if (!('externalRange' in e)) continue;
      const [base, bits] = e.externalRange.cidr.split('/');
      const b = Number(bits);
      const mask = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0;
      this.ranges.push({ base: ipToInt(base ?? '') & mask, mask, bits: b, name: e.externalRange.name });
    }
    this.ranges.sort((a, b) => b.bits - a.bits);
  }

  nameOf(ip: string): string | undefined {
    const n = ipToInt(ip);
    for (const r of this.ranges) if (((n & r.mask) >>> 0) === r.base >>> 0) return r.name;
    return undefined;
  }
}
