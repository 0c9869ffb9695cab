import type { ApplicationEdgeProps, EndpointStats, LatencyHistogram } from '@topology/model';
import { applicationBucketMerger, withPercentiles } from './application-props';
import { LatencyAccumulator, quantileMs } from './latency-histogram';

function endpoint(calls: number, boundsMs: number[], counts: number[], over: Partial<EndpointStats> = {}): EndpointStats {
  const acc = new LatencyAccumulator();
  acc.addDense(boundsMs, counts);
  return withPercentiles({ endpoint: 'a.S/M', protocol: 'grpc', calls, errors: 0, errorsByStatus: {}, latency: acc.toHistogram(), ...over });
}

function props(...endpoints: EndpointStats[]): ApplicationEdgeProps {
  return { calls: endpoints.reduce((s, e) => s + e.calls, 0), errors: endpoints.reduce((s, e) => s + e.errors, 0), endpoints };
}

const BOUNDS = [5, 10, 25, 50, 100];

describe('folding application buckets', () => {
  it('adds histogram buckets, so the p99 over several buckets is that of all their calls', () => {
    const fast = props(endpoint(100, BOUNDS, [100, 0, 0, 0, 0, 0]));
    const slow = props(endpoint(10, BOUNDS, [0, 0, 0, 0, 10, 0]));
    const folded = applicationBucketMerger.merge(fast, slow);
    const e = folded.endpoints[0] as EndpointStats;
    expect(e.calls).toBe(110);
    // The slow bucket's lower bound (50) is kept, empty, so quantiles interpolate inside (50, 100].
    expect(e.latency).toEqual({ boundsMs: [5, 50, 100], counts: [100, 0, 10], overflow: 0, overflowAboveMs: 0 });
    // 1.1 calls of 110 at rank 108.9 fall among the 10 slow ones, in (50, 100].
    expect(e.latencyP99Ms).toBeGreaterThan(50);
    expect(e.latencyP99Ms).toBeLessThanOrEqual(100);
    expect(e.latencyP50Ms).toBeLessThanOrEqual(5);
  });

  it('is associative and commutative, as stores fold buckets in any order', () => {
    const a = props(endpoint(5, BOUNDS, [1, 2, 2, 0, 0, 0]), endpoint(3, [1, 2], [1, 1, 1], { endpoint: 'x', protocol: 'http', errors: 1, errorsByStatus: { '5xx': 1 } }));
    const b = props(endpoint(7, BOUNDS, [0, 0, 3, 3, 0, 1]));
    const c = props(endpoint(2, [7, 70], [1, 1, 0], { serverReportedOnly: true }));
    const m = applicationBucketMerger.merge;
    expect(m(m(a, b), c)).toEqual(m(a, m(b, c)));
    expect(m(a, b)).toEqual(m(b, a));
    expect(Object.isFrozen(a)).toBe(false);
    expect(m(a, b).endpoints.find((e) => e.endpoint === 'x')?.errorsByStatus).toEqual({ '5xx': 1 });
  });

  it('keeps buckets of different schemes side by side and says "longer than" past the last bound', () => {
    const h: LatencyHistogram = { boundsMs: [10], counts: [1], overflow: 99, overflowAboveMs: 10 };
    expect(quantileMs(h, 0.5)).toBe(10);
    const acc = new LatencyAccumulator();
    acc.addDense([10, 20], [1, 1, 0]);
    acc.addDense([15], [2, 0]);
    expect(acc.toHistogram()).toEqual({ boundsMs: [10, 15, 20], counts: [1, 2, 1], overflow: 0, overflowAboveMs: 0 });
  });

  it('marks an endpoint server-reported-only only when every folded bucket was', () => {
    const m = applicationBucketMerger.merge;
    const server = props(endpoint(2, BOUNDS, [2, 0, 0, 0, 0, 0], { serverReportedOnly: true }));
    const client = props(endpoint(3, BOUNDS, [3, 0, 0, 0, 0, 0]));
    expect(m(server, server).endpoints[0]?.serverReportedOnly).toBe(true);
    expect(m(server, client).endpoints[0]?.serverReportedOnly).toBeUndefined();
    expect(applicationBucketMerger.isHop(client)).toBe(false);
  });
});
