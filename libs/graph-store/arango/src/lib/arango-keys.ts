import { createHash } from 'crypto';
import { Granularity, NodeId } from '@topology/model';

/** Characters ArangoDB allows in a document key besides letters and digits (`%` is ours: the escape). */
const KEY_PUNCTUATION = new Set("_-:.@()+,=;$!*'");
const MAX_KEY_BYTES = 254;

function isKeySafe(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || KEY_PUNCTUATION.has(String.fromCharCode(byte));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The document key of a node: its id with every byte ArangoDB does not allow in keys written as
 * `%XX` (so `unknown:private-unmapped/10.0.0.7` becomes `unknown:private-unmapped%2F10.0.0.7`).
 * Distinct ids give distinct keys. An id whose encoding is longer than a key may be is hashed
 * instead: `h$` and its SHA-256, a form no encoded id takes (ids start with their kind).
 */
export function nodeKey(id: NodeId): string {
  let key = '';
  for (const byte of Buffer.from(id, 'utf8')) {
    key += isKeySafe(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return key.length <= MAX_KEY_BYTES ? key : `h$${sha256(id)}`;
}

/** Inverse of `nodeKey` for keys that are not hashed. */
export function nodeIdOfKey(key: string): string {
  return decodeURIComponent(key);
}

/**
 * The document key of an edge at a granularity. Node ids can be long, so the key is a digest of
 * the pair; the edge document keeps `src` and `dst` readable.
 */
export function edgeDocumentKey(granularity: Granularity, src: NodeId, dst: NodeId): string {
  return `${granularity}-${sha256(`${src}\n${dst}`).slice(0, 40)}`;
}

export function bucketDocumentKey(edgeKey: string, bucketStartMs: number): string {
  return `${edgeKey}-${bucketStartMs}`;
}
