import { nodeId } from '@topology/model';
import { bucketDocumentKey, edgeDocumentKey, nodeIdOfKey, nodeKey } from './arango-keys';

const ALLOWED = /^[A-Za-z0-9_\-:.@()+,=;$!*'%]{1,254}$/;

describe('document keys', () => {
  it.each([
    nodeId('app', 'checkout'),
    nodeId('cluster', 'checkout-prod-canary-v012'),
    nodeId('unknown', 'private-unmapped/10.0.0.7'),
    nodeId('unknown', 'no-owner-at-time/fd00::1'),
    nodeId('external', 'api.example.com#frag?q=1&x=%41'),
    nodeId('app', 'zahlungsdienst-ü-€'),
  ])('keeps %s readable, within the allowed characters, and reversible', (id) => {
    const key = nodeKey(id);
    expect(key).toMatch(ALLOWED);
    expect(nodeIdOfKey(key)).toBe(id);
  });

  it('escapes the escape character, so distinct ids never share a key', () => {
    expect(nodeKey(nodeId('external', 'a%2Fb'))).not.toBe(nodeKey(nodeId('external', 'a/b')));
  });

  it('hashes ids too long for a key', () => {
    const key = nodeKey(nodeId('external', 'x'.repeat(300)));
    expect(key).toMatch(/^h\$[0-9a-f]{64}$/);
    expect(key).toMatch(ALLOWED);
  });

  it('keys edges by granularity and pair, and buckets by edge and start', () => {
    const a = nodeId('intermediary', 'lb-1');
    const b = nodeId('external', 'payments');
    expect(edgeDocumentKey('app', a, b)).not.toBe(edgeDocumentKey('cluster', a, b));
    expect(edgeDocumentKey('app', a, b)).not.toBe(edgeDocumentKey('app', b, a));
    expect(edgeDocumentKey('app', a, b)).toMatch(ALLOWED);
    expect(bucketDocumentKey(edgeDocumentKey('app', a, b), 1_700_000_040_000)).toMatch(ALLOWED);
  });
});
