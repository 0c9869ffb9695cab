import { ManualClock } from '@topology/model';
import { FlowIngestor } from './flow-ingestor';
import { DEFAULT_FLOW_INGESTOR_CONFIG } from './flow-ingestor-config';
import type { ObservedFlow } from './observed-flow';
import { T0, end, flow } from './testing/flows';

describe('unusable flows', () => {
  it('rejects each bad flow with its reason, takes the good ones of the batch, and never throws', () => {
    const ingestor = new FlowIngestor(DEFAULT_FLOW_INGESTOR_CONFIG, new ManualClock(T0));
    const good = flow(end('10.2.0.7', 50000, 'c-prod-v001'), end('10.4.0.2', 8080, 'cart-prod-v003'), T0 - 5_000, 1);
    const bad: ObservedFlow[] = [
      { ...good, endMs: good.startMs - 1 },
      { ...good, startMs: T0 + DEFAULT_FLOW_INGESTOR_CONFIG.maxFutureSkewMs + 1, endMs: T0 + DEFAULT_FLOW_INGESTOR_CONFIG.maxFutureSkewMs + 2 },
      { ...good, startMs: Number.NaN },
      { ...good, bytesSent: -1 },
      { ...good, packetsReceived: Number.NaN },
      { ...good, client: { ip: '10.2.0.300', port: 1 } },
      { ...good, server: { ip: '10.4.0.2', port: 1, identity: { app: 'cart', cluster: 'cart prod' } } },
      { ...good, server: { ip: '10.4.0.2', port: 1, identity: { app: '', cluster: '' } } },
      { ...good, client: undefined } as unknown as ObservedFlow,
    ];
    const rejections = ingestor.ingest([bad[0], good, ...bad.slice(1)] as ObservedFlow[], 's');
    expect(rejections.map((r) => r.reason)).toEqual([
      'invalid-time',
      'invalid-time',
      'invalid-time',
      'invalid-value',
      'invalid-value',
      'invalid-value',
      'invalid-value',
      'invalid-value',
      'missing-field',
    ]);
    expect(rejections.every((r) => typeof r.raw === 'string' && r.raw.length > 0)).toBe(true);
    expect(ingestor.counters.get('flows_invalid')).toBe(9);
    expect(ingestor.counters.get('flows_in')).toBe(10);
    expect(ingestor.flush().snapshots.map((s) => s.entries[0]?.bytesSent)).toEqual([1]);
  });

  it('derives the app from the cluster name when an identity names none', () => {
    const ingestor = new FlowIngestor(DEFAULT_FLOW_INGESTOR_CONFIG, new ManualClock(T0));
    ingestor.ingest([flow({ ip: '10.2.0.7', port: 1, identity: { app: '', cluster: 'checkout-prod-canary-v012' } }, end('10.4.0.2', 8080, 'cart-prod-v003'), T0 - 5_000, 1)], 's');
    expect(ingestor.flush().snapshots[0]?.entries[0]?.src).toEqual({ kind: 'workload', app: 'checkout', cluster: 'checkout-prod-canary-v012' });
  });
});
