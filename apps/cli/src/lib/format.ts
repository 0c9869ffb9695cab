import type {
  BlastRadiusResponseMessage,
  CoverageResponseMessage,
  DiagnoseResponseMessage,
  EdgeMessage,
  GetNodeResponseMessage,
  LayerName,
  LayerStatusMessage,
  NodeMessage,
  TraceHopMessage,
  TraceOverlayResponseMessage,
  TraverseResponseMessage,
} from '@topology/runtime-gateway';

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

function percent(share: number): string {
  const p = share * 100;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

function layerList(layers: LayerName[]): string {
  return layers.map((l) => l.replace('LAYER_', '').toLowerCase()).join('+');
}

const VERDICT_TEXT: Record<DiagnoseResponseMessage['verdict'], string> = {
  VERDICT_UNSPECIFIED: '?',
  VERDICT_SELF: 'LIKELY ITSELF',
  VERDICT_DEPENDENCY: 'LIKELY A DEPENDENCY',
  VERDICT_NO_SIGNAL: 'NO SIGNAL',
};

/** The verdict first, then each suspect with its path and evidence. */
export function formatDiagnosis(r: DiagnoseResponseMessage): string {
  const out = [...layerWarnings(r.layerStatus)];
  const culprit = r.likelyCulprit ? `: ${r.likelyCulprit}` : '';
  out.push(`${r.node?.id ?? '?'}  ${VERDICT_TEXT[r.verdict]}${culprit}`);
  out.push(`  ${r.explanation}`);
  if (r.ownErrorRate > 0) out.push(`  own error rate ${percent(r.ownErrorRate)}`);
  if (r.suspects.length > 0) out.push('suspects (likeliest first):');
  r.suspects.forEach((s, i) => {
    const health = s.health !== 'unknown' && s.health !== 'healthy' ? `, ${s.health}` : '';
    out.push(
      `  ${String(i + 1).padStart(2)}. ${(s.node?.id ?? '').padEnd(40)} score ${s.score.toFixed(3)}  ${s.distance} hop(s), dependence ${percent(s.dependence)}${health}${s.evidenceLayers.length > 0 ? `  [${layerList(s.evidenceLayers)}]` : ''}`,
    );
    out.push(`      path ${s.path.join(' → ')}`);
    for (const line of s.evidence) out.push(`      - ${line}`);
  });
  return out.join('\n');
}

function coverageLine(n: NodeMessage): string {
  const context = [n.owner && `owner ${n.owner}`, n.tier, n.domain].filter(Boolean).join(', ');
  const named = n.layers.includes('LAYER_APPLICATION') && n.layers.includes('LAYER_NETWORK') ? '  (named by its peers’ metrics only)' : '';
  return `  ${n.id.padEnd(48)}${context}${named}`.trimEnd();
}

export function formatCoverage(r: CoverageResponseMessage): string {
  const out = [...layerWarnings(r.layerStatus)];
  const seen = r.networkOnlyCount + r.bothCount;
  out.push(
    `${r.bothCount} of ${seen} services seen on the network report application metrics (${seen > 0 ? percent(r.bothCount / seen) : '—'}), ${r.networkOnlyCount} do not; ` +
      `${r.applicationOnlyCount} ${r.applicationOnlyCount === 1 ? 'service appears' : 'services appear'} only in application metrics`,
  );
  if (r.networkOnly.length > 0) out.push('not instrumented (network only):', ...r.networkOnly.map(coverageLine));
  if (r.applicationOnly.length > 0) out.push('never seen on the network (application only):', ...r.applicationOnly.map(coverageLine));
  if (r.nextPageToken) out.push(`more: --page-token ${r.nextPageToken}`);
  return out.join('\n');
}

function millis(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

/**
 * One request's path over the map: its calls in the order they started, each indented under the
 * call that reached its caller (the latest earlier call into that service), with operation,
 * duration and errors.
 */
export function formatTraceOverlay(r: TraceOverlayResponseMessage): string {
  const out = [...layerWarnings(r.layerStatus)];
  if (!r.found) {
    out.push(`trace ${r.traceId} is not in the span index (unknown, unsampled, or older than the span retention)`);
    return out.join('\n');
  }
  const hops = [...r.hops].sort((a, b) => a.startUnixNano - b.startUnixNano);
  const services = new Set(hops.flatMap((h) => [h.src, h.dst]));
  const errors = hops.filter((h) => h.error).length;
  out.push(
    `trace ${r.traceId}  ${new Date(r.startMs).toISOString()}  ${millis(r.durationMs)}  ${hops.length} call(s) across ${services.size} service(s)${errors > 0 ? `, ${errors} failed` : ''}`,
  );
  const depthOf = new Map<TraceHopMessage, number>();
  const lastInto = new Map<string, TraceHopMessage>();
  for (const hop of hops) {
    const caller = lastInto.get(hop.src);
    const depth = caller === undefined ? 0 : (depthOf.get(caller) ?? 0) + 1;
    depthOf.set(hop, depth);
    lastInto.set(hop.dst, hop);
    const offsetMs = (hop.startUnixNano / 1e6 - r.startMs).toFixed(0);
    const indent = '  '.repeat(depth + 1);
    out.push(`${`${indent}${hop.src} → ${hop.dst}`.padEnd(64)} ${hop.operation.padEnd(28)} +${offsetMs.padStart(5)} ms ${millis(hop.durationMs).padStart(9)}${hop.error ? '  ERROR' : ''}`);
  }
  return out.join('\n');
}
