import type { BlastRadiusResponseMessage, EdgeMessage, GetNodeResponseMessage, LayerStatusMessage, TraverseResponseMessage } from '@topology/runtime-gateway';

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v >= 100 || u === 0 ? 0 : 1)} ${units[u]}`;
}

function layerWarnings(statuses: LayerStatusMessage[]): string[] {
  return statuses
    .filter((s) => s.state !== 'STATE_OK')
    .map((s) => `! ${s.layer.replace('LAYER_', '').toLowerCase()} layer ${s.state.replace('STATE_', '').toLowerCase().replace('_', ' ')}: ${s.message}`);
}

function edgeLine(e: EdgeMessage, other: string): string {
  const n = e.network;
  const parts = [other.padEnd(48)];
  if (n) {
    parts.push(bytes(n.bytesSent + n.bytesReceived).padStart(9));
    parts.push(`${n.ports.map((p) => `${p.port}/${p.protocol}`).join(',')}`.padEnd(14));
    const via = n.paths.filter((p) => p.via.length > 0).map((p) => p.via.join(' > '));
    if (via.length > 0) parts.push(`via ${via.join(' | ')}`);
    if (n.confidence < 0.999) parts.push(`confidence ${n.confidence.toFixed(2)}`);
    if (n.hop) parts.push('(hop)');
  }
  return parts.join('  ');
}

/** A dependency listing: each node with its outgoing (or incoming) edges, grouped by distance. */
export function formatTraversal(r: TraverseResponseMessage, direction: 'down' | 'up' | 'both'): string {
  const out: string[] = [...layerWarnings(r.layerStatus)];
  const bySrc = new Map<string, EdgeMessage[]>();
  const byDst = new Map<string, EdgeMessage[]>();
  for (const e of r.edges) {
    bySrc.set(e.src, [...(bySrc.get(e.src) ?? []), e]);
    byDst.set(e.dst, [...(byDst.get(e.dst) ?? []), e]);
  }
  for (const node of r.nodes) {
    const context = [node.owner && `owner ${node.owner}`, node.tier, node.domain, node.region, node.health !== 'unknown' && node.health, node.unknownReason && `unknown: ${node.unknownReason}`]
      .filter(Boolean)
      .join(', ');
    out.push(`${'  '.repeat(node.distance)}${node.id}${context ? `  [${context}]` : ''}`);
    if (direction !== 'up') for (const e of bySrc.get(node.id) ?? []) out.push(`${'  '.repeat(node.distance + 1)}→ ${edgeLine(e, e.dst)}`);
    if (direction !== 'down') for (const e of byDst.get(node.id) ?? []) out.push(`${'  '.repeat(node.distance + 1)}← ${edgeLine(e, e.src)}`);
  }
  out.push(`${r.nodes.length} nodes, ${r.edges.length} edges${r.truncated ? ` (truncated: ${r.truncatedReason})` : ''}${r.nextPageToken ? ' — more: --page-token ' + r.nextPageToken : ''}`);
  return out.join('\n');
}

export function formatNode(r: GetNodeResponseMessage): string {
  const n = r.node;
  if (!n) return 'not found';
  const out = [...layerWarnings(r.layerStatus), `${n.id}  (${n.kind})`];
  const fields: [string, string][] = [
    ['owner', n.owner],
    ['tier', n.tier],
    ['domain', n.domain],
    ['region', n.region],
    ['health', n.health],
    ['unknown reason', n.unknownReason],
    ['address', n.address],
    ['first seen', n.firstSeenMs ? new Date(n.firstSeenMs).toISOString() : ''],
    ['last seen', n.lastSeenMs ? new Date(n.lastSeenMs).toISOString() : ''],
  ];
  for (const [k, v] of fields) if (v) out.push(`  ${k.padEnd(15)}${v}`);
  out.push(`  calls (${r.downstream.length}):`, ...r.downstream.map((d) => `    → ${d.id}`));
  out.push(`  called by (${r.upstream.length}):`, ...r.upstream.map((u) => `    ← ${u.id}`));
  return out.join('\n');
}

export function formatBlastRadius(r: BlastRadiusResponseMessage): string {
  const out = [...layerWarnings(r.layerStatus), `blast radius of ${r.root?.id ?? '?'}: ${r.impacted.length} dependents`];
  for (const i of r.impacted) out.push(`  ${String(i.distance).padStart(2)}  ${(i.node?.id ?? '').padEnd(48)} ${i.tier.padEnd(8)} ${i.owner}`);
  out.push('teams to notify:');
  for (const t of r.teams) out.push(`  ${(t.owner || '(no owner)').padEnd(24)} ${String(t.nodeCount).padStart(4)} services, nearest at ${t.minDistance} hop(s)`);
  if (r.truncated) out.push(`(truncated: ${r.truncatedReason})`);
  return out.join('\n');
}
