import { WorkloadIdentity, parseClusterName, peerNodeId } from '@topology/model';
import type { FlowAggregate, FlowPartialSnapshot } from '@topology/contracts';
import type { ObservedEnd, ObservedFlow } from '../observed-flow';

/** 2026-01-01T00:00:00Z: a window boundary for every window length the specs use. */
export const T0 = Date.UTC(2026, 0, 1);

export function identity(cluster: string): WorkloadIdentity {
  return { app: parseClusterName(cluster).app, cluster };
}

export function end(ip: string, port: number, cluster?: string): ObservedEnd {
  return cluster === undefined ? { ip, port } : { ip, port, identity: identity(cluster) };
}

/** A flow of `bytes` bytes sent (and none received) starting at `startMs`, lasting `durationMs`. */
export function flow(client: ObservedEnd, server: ObservedEnd, startMs: number, bytes: number, extra: Partial<ObservedFlow> = {}): ObservedFlow {
  return {
    client,
    server,
    observer: client.identity !== undefined && server.identity === undefined ? 'client' : server.identity !== undefined && client.identity === undefined ? 'server' : 'network',
    protocol: 'tcp',
    startMs,
    endMs: startMs + 500,
    bytesSent: bytes,
    bytesReceived: 0,
    packetsSent: 1,
    packetsReceived: 1,
    connections: 1,
    retransmits: 0,
    ...extra,
  };
}

/** Keeps the latest snapshot per (window, scope, key), as stage 2 does. */
export class LatestSnapshots {
  private readonly byKey = new Map<string, FlowPartialSnapshot>();

  add(snapshots: readonly FlowPartialSnapshot[]): void {
    for (const s of snapshots) this.byKey.set(`${s.window.startMs}|${s.scope}|${s.key}`, s);
  }

  all(): FlowPartialSnapshot[] {
    return [...this.byKey.values()].sort((a, b) => a.window.startMs - b.window.startMs || a.scope.localeCompare(b.scope) || a.key.localeCompare(b.key));
  }

  entries(): (FlowAggregate & { windowStartMs: number; scope: string; key: string })[] {
    return this.all().flatMap((s) => s.entries.map((e) => ({ ...e, windowStartMs: s.window.startMs, scope: s.scope, key: s.key })));
  }

  /** Bytes sent per `windowOffset src -> dst` (cluster-level node ids, windows relative to T0), summed over scopes and observers. */
  bytesByEdge(filter: (e: FlowAggregate) => boolean = () => true): Record<string, number> {
    const out: Record<string, number> = {};
    for (const e of this.entries()) {
      if (!filter(e)) continue;
      const label = `${e.windowStartMs - T0} ${peerNodeId(e.src, 'cluster')} -> ${peerNodeId(e.dst, 'cluster')}`;
      out[label] = (out[label] ?? 0) + e.bytesSent;
    }
    return out;
  }
}

/** A seeded shuffle, so a failing order can be replayed. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}
