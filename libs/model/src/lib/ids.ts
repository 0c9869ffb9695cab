/**
 * Stable identities of nodes and edges.
 *
 * A node id is `<kind>:<name>`. Names never contain whitespace, so ids are safe in logs, URLs and
 * store keys. Build ids with the constructors here and read them back with the parsers; never
 * split or concatenate ids by hand elsewhere.
 */

export const NODE_KINDS = ['app', 'cluster', 'intermediary', 'external', 'unknown'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/** Level of detail of a graph: whole applications, or the clusters (deployments) inside them. */
export const GRANULARITIES = ['app', 'cluster'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** The three independent sources, each stored apart. */
export const LAYERS = ['network', 'application', 'request'] as const;
export type Layer = (typeof LAYERS)[number];

declare const nodeIdBrand: unique symbol;
export type NodeId = string & { readonly [nodeIdBrand]: true };

declare const edgeKeyBrand: unique symbol;
export type EdgeKey = string & { readonly [edgeKeyBrand]: true };

const WHITESPACE = /\s/;

export function nodeId(kind: NodeKind, name: string): NodeId {
  if (name.length === 0) throw new Error(`empty ${kind} name`);
  if (WHITESPACE.test(name)) throw new Error(`${kind} name contains whitespace: ${JSON.stringify(name)}`);
  return `${kind}:${name}` as NodeId;
}

export function parseNodeId(id: string): { kind: NodeKind; name: string } {
  const colon = id.indexOf(':');
  const kind = id.slice(0, colon) as NodeKind;
  if (colon <= 0 || !NODE_KINDS.includes(kind) || colon === id.length - 1) {
    throw new Error(`not a node id: ${JSON.stringify(id)}`);
  }
  return { kind, name: id.slice(colon + 1) };
}

export function isNodeId(id: string): id is NodeId {
  const colon = id.indexOf(':');
  return colon > 0 && colon < id.length - 1 && NODE_KINDS.includes(id.slice(0, colon) as NodeKind) && !WHITESPACE.test(id);
}

const EDGE_SEPARATOR = ' -> ';

/** Key of a directed edge. The separator contains spaces, which node ids cannot. */
export function edgeKey(src: NodeId, dst: NodeId): EdgeKey {
  return `${src}${EDGE_SEPARATOR}${dst}` as EdgeKey;
}

export function parseEdgeKey(key: string): { src: NodeId; dst: NodeId } {
  const at = key.indexOf(EDGE_SEPARATOR);
  if (at <= 0) throw new Error(`not an edge key: ${JSON.stringify(key)}`);
  const src = key.slice(0, at);
  const dst = key.slice(at + EDGE_SEPARATOR.length);
  if (!isNodeId(src) || !isNodeId(dst)) throw new Error(`not an edge key: ${JSON.stringify(key)}`);
  return { src, dst };
}
