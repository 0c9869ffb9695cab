import type { NetworkEdgeProps } from '@topology/model';
import { emptyNetworkProps, mergeNetworkProps } from '@topology/model';
import type { BucketPart } from './bucket-fold';
import { foldParts, foldValues } from './bucket-fold';

/** A small deterministic generator, so a failure can be reproduced. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

function parts(seed: number, n: number): BucketPart[] {
  const r = random(seed);
  const vias = [[], ['intermediary:lb-1'], ['intermediary:lb-1', 'app:edge'], ['intermediary:nat-2']];
  const ports = [{ port: 443, protocol: 'tcp' }, { port: 53, protocol: 'udp' }, { port: 8080, protocol: 'tcp' }];
  return Array.from({ length: n }, () => {
    const zero = r() < 0.2;
    return {
      bytesSent: zero ? 0 : Math.floor(r() * 10_000),
      bytesReceived: zero ? 0 : Math.floor(r() * 10_000),
      packetsSent: Math.floor(r() * 100),
      packetsReceived: Math.floor(r() * 100),
      connections: r() * 3,
      retransmits: Math.floor(r() * 3),
      rttSumUs: 0,
      rttSamples: 0,
      confidence: Math.round(r() * 100) / 100,
      hop: r() < 0.3,
      via: vias[Math.floor(r() * vias.length)] ?? [],
      ports: [ports[Math.floor(r() * ports.length)] ?? { port: 1, protocol: 'tcp' }],
      firstSeenMs: 1000 + Math.floor(r() * 100),
      lastSeenMs: 2000 + Math.floor(r() * 100),
    };
  });
}

function asProps(p: BucketPart): NetworkEdgeProps {
  return {
    bytesSent: p.bytesSent,
    bytesReceived: p.bytesReceived,
    packetsSent: p.packetsSent,
    packetsReceived: p.packetsReceived,
    connections: p.connections,
    retransmits: p.retransmits,
    ports: [...p.ports],
    paths: [{ via: [...p.via] as NetworkEdgeProps['paths'][number]['via'], bytes: p.bytesSent + p.bytesReceived, confidence: p.confidence }],
    confidence: p.confidence,
    hop: p.hop,
  };
}

function expectClose(actual: NetworkEdgeProps | undefined, expected: NetworkEdgeProps): void {
  expect(actual).toBeDefined();
  if (actual === undefined) return;
  const { confidence, paths, ...rest } = actual;
  const { confidence: expectedConfidence, paths: expectedPaths, ...expectedRest } = expected;
  expect(rest).toEqual(expectedRest);
  expect(confidence).toBeCloseTo(expectedConfidence, 9);
  expect(paths.map((p) => ({ ...p, confidence: Math.round(p.confidence * 1e9) }))).toEqual(expectedPaths.map((p) => ({ ...p, confidence: Math.round(p.confidence * 1e9) })));
}

describe('bucket folds agree with the store merger', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: one pass over the parts equals merging them pairwise', (seed) => {
    const ps = parts(seed, 1 + (seed % 7));
    const expected = ps.map(asProps).reduce(mergeNetworkProps, emptyNetworkProps());
    expectClose(foldParts(ps)?.props, expected);
  });

  it.each([11, 12, 13])('seed %i: folding cluster values equals folding all their parts', (seed) => {
    const groups = [parts(seed, 3), parts(seed + 100, 4), parts(seed + 200, 2)];
    const values = groups.map((g) => foldParts(g)).filter((v) => v !== undefined);
    expectClose(foldValues(values)?.props, foldParts(groups.flat())?.props ?? emptyNetworkProps());
  });

  it('has nothing to fold when there are no parts', () => {
    expect(foldParts([])).toBeUndefined();
    expect(foldValues([])).toBeUndefined();
  });
});
