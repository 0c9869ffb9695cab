import { QueryError } from './query-error';

/**
 * Where the next page starts, and which request it belongs to. Opaque to clients (base64url), but
 * not secret: a forged offset only skips nodes of the caller's own query.
 *
 * `asOfMs` pins "now" for a live-view request, so every page of one query reads the same window even
 * though the gateway recomputes the traversal for each page.
 */
export interface PageCursor {
  offset: number;
  asOfMs: number;
  fingerprint: string;
}

const VERSION = 'p1';
const DIGITS = /^\d{1,15}$/;
const FINGERPRINT = /^[0-9a-z]{1,16}$/;

export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(`${VERSION}.${cursor.offset}.${cursor.asOfMs}.${cursor.fingerprint}`, 'utf8').toString('base64url');
}

/** Rejects malformed tokens and tokens minted for a different request with `invalid-argument`. */
export function decodePageToken(token: string, expectedFingerprint: string): PageCursor {
  const parts = Buffer.from(token, 'base64url').toString('utf8').split('.');
  const [version, offset, asOfMs, fingerprint] = parts;
  if (
    parts.length !== 4 ||
    version !== VERSION ||
    offset === undefined ||
    !DIGITS.test(offset) ||
    asOfMs === undefined ||
    !DIGITS.test(asOfMs) ||
    fingerprint === undefined ||
    !FINGERPRINT.test(fingerprint)
  ) {
    throw new QueryError('invalid-argument', 'page_token is malformed; pass next_page_token from a previous response unchanged');
  }
  if (fingerprint !== expectedFingerprint) {
    throw new QueryError('invalid-argument', 'page_token belongs to a different request; only page_token (and page_size) may change between pages');
  }
  return { offset: Number(offset), asOfMs: Number(asOfMs), fingerprint };
}

/**
 * A 53-bit non-cryptographic hash (cyrb53) of the canonical request, in base 36. It only has to tell
 * requests apart, not resist forgery (see `PageCursor`).
 */
export function fingerprintOf(canonical: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < canonical.length; i++) {
    const ch = canonical.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}
