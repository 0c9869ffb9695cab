import { ManualClock } from '@topology/model';
import { FlowIngestor } from './flow-ingestor';
import { DEFAULT_FLOW_INGESTOR_CONFIG } from './flow-ingestor-config';
import { LatestSnapshots, T0, end, flow } from './testing/flows';

const config = DEFAULT_FLOW_INGESTOR_CONFIG;
const C = (port = 50000) => end('10.2.0.7', port, 'c-prod-v001');

function ingestorWithMetadata() {
  const clock = new ManualClock(T0 + 20_000);
  const ingestor = new FlowIngestor(config, clock);
  ingestor.applyMetadata({ ipAssignment: { ip: '10.0.9.9', intermediaryId: 'lb-1', type: 'load-balancer', name: 'checkout-alb', region: 'us-east-1', fromMs: T0 - 3_600_000 } });
  ingestor.applyMetadata({ ipAssignment: { ip: '10.0.7.7', intermediaryId: 'nat-1', type: 'nat-gateway', fromMs: T0 - 3_600_000 } });
  ingestor.applyMetadata({ externalRange: { cidr: '52.94.0.0/16', name: 'aws-s3' } });
  ingestor.applyMetadata({ externalRange: { cidr: '52.94.5.0/24', name: 'aws-s3-use1' } });
  ingestor.applyMetadata({ externalRange: { cidr: '8.8.4.0/24', name: 'google-dns' } });
  ingestor.applyMetadata({ app: { app: 'edge', intermediaryType: 'api-gateway' } });
  return { clock, ingestor };
}

function keysAndPeers(latest: LatestSnapshots) {
  return latest.entries().map((e) => ({ key: e.key, src: e.src, dst: e.dst, via: e.via, bytes: e.bytesSent }));
}

describe('attribution of intermediaries, external ranges and unknown addresses', () => {
  it('turns an IP-assigned address into an intermediary peer keyed by the intermediary, on either side', () => {
    const { ingestor } = ingestorWithMetadata();
    const latest = new LatestSnapshots();
    ingestor.ingest([flow(C(), end('10.0.9.9', 443), T0 + 1_000, 10), flow(end('10.0.9.9', 31000), end('10.4.0.2', 8080, 'cart-prod-v003'), T0 + 1_000, 20)], 's');
    latest.add(ingestor.flush().snapshots);
    const lb = { kind: 'intermediary', id: 'lb-1', type: 'load-balancer', name: 'checkout-alb', region: 'us-east-1' };
    expect(keysAndPeers(latest)).toEqual([
      { key: 'intermediary:lb-1', src: lb, dst: { kind: 'workload', app: 'cart', cluster: 'cart-prod-v003' }, via: [], bytes: 20 },
      { key: 'intermediary:lb-1', src: { kind: 'workload', app: 'c', cluster: 'c-prod-v001' }, dst: lb, via: [], bytes: 10 },
    ]);
    expect(ingestor.counters.get('ends_attributed', 'intermediary')).toBe(2);
  });

  it('keys traffic to and from an app marked as an API gateway by the app, keeping it a workload peer', () => {
    const { ingestor } = ingestorWithMetadata();
    const latest = new LatestSnapshots();
    ingestor.ingest([flow(C(), end('10.0.8.8', 443), T0 + 1_000, 10), flow(end('10.0.8.8', 31000, 'edge-prod-v001'), end('10.4.0.2', 8080, 'cart-prod-v003'), T0 + 1_000, 20)], 's');
    latest.add(ingestor.flush().snapshots);
    expect(latest.entries().map((e) => [e.key, e.src.kind, e.dst.kind, e.bytesSent])).toEqual([
      ['app:edge', 'workload', 'workload', 10],
      ['app:edge', 'workload', 'workload', 20],
    ]);
  });

  it('attributes CIDR-matched addresses to the external peer of the longest prefix', () => {
    const { ingestor } = ingestorWithMetadata();
    const latest = new LatestSnapshots();
    ingestor.ingest([flow(C(), end('52.94.5.10', 443), T0 + 1_000, 1), flow(C(), end('52.94.200.1', 443), T0 + 1_000, 2)], 's');
    latest.add(ingestor.flush().snapshots);
    expect(latest.entries().map((e) => [e.key, e.dst, e.bytesSent])).toEqual([
      ['cluster:c-prod-v001 -> external:aws-s3', { kind: 'external', name: 'aws-s3', cidr: '52.94.0.0/16' }, 2],
      ['cluster:c-prod-v001 -> external:aws-s3-use1', { kind: 'external', name: 'aws-s3-use1', cidr: '52.94.5.0/24' }, 1],
    ]);
  });

  it('turns a via address into the via of the aggregate', () => {
    const { ingestor } = ingestorWithMetadata();
    const latest = new LatestSnapshots();
    ingestor.ingest([flow(end('10.2.0.7', 50000), end('8.8.4.4', 53), T0 + 1_000, 5, { observer: 'network', viaIp: '10.0.7.7', protocol: 'udp' })], 's');
    ingestor.ingest([flow(C(), end('8.8.4.4', 53), T0 + 1_000, 6, { viaIp: '10.9.9.9', protocol: 'udp' })], 's');
    ingestor.ingest([flow(end('10.3.3.3', 1), end('10.2.0.7', 1, 'c-prod-v001'), T0 + 1_000, 0)], 's'); // teaches c owns 10.2.0.7
    latest.add(ingestor.flush().snapshots);
    expect(latest.entries().filter((e) => e.dst.kind === 'external').map((e) => [e.key, e.observer, e.via, e.bytesSent])).toEqual([
      ['cluster:c-prod-v001 -> external:google-dns', 'client', [], 6],
      ['cluster:c-prod-v001 -> external:google-dns', 'network', ['intermediary:nat-1'], 5],
    ]);
    expect(ingestor.counters.get('via_unresolved')).toBe(1);
  });

  it('gives unmapped addresses the Unknown reason that fits, after the hold-back, and a missing address at once', () => {
    const { clock, ingestor } = ingestorWithMetadata();
    const latest = new LatestSnapshots();
    const targets = ['10.9.9.9', '100.64.1.1', 'fd00::1', '8.8.8.8', '2001:db8::1'];
    ingestor.ingest(
      targets.map((ip, i) => flow(C(), end(ip, 443), T0 + 1_000, 2 ** i)),
      's',
    );
    ingestor.ingest([flow(C(), end('', 0), T0 + 1_000, 1_000)], 's');
    latest.add(ingestor.flush().snapshots);
    expect(latest.entries().map((e) => e.key)).toEqual(['cluster:c-prod-v001 -> unknown:missing-address/-']);
    expect(ingestor.heldCount()).toBe(5);

    clock.advance(config.holdBackMs);
    latest.add(ingestor.flush().snapshots);
    expect(latest.bytesByEdge()).toEqual({
      '0 cluster:c-prod-v001 -> unknown:private-unmapped/10.9.9.9': 1,
      '0 cluster:c-prod-v001 -> unknown:private-unmapped/100.64.1.1': 2,
      '0 cluster:c-prod-v001 -> unknown:private-unmapped/fd00::1': 4,
      '0 cluster:c-prod-v001 -> unknown:public-unmapped/8.8.8.8': 8,
      '0 cluster:c-prod-v001 -> unknown:public-unmapped/2001:db8::1': 16,
      '0 cluster:c-prod-v001 -> unknown:missing-address/-': 1_000,
    });
    expect(ingestor.counters.get('ends_unknown', 'private-unmapped')).toBe(3);
    expect(ingestor.counters.get('ends_unknown', 'public-unmapped')).toBe(2);
    expect(ingestor.counters.get('ends_unknown', 'missing-address')).toBe(1);
  });

  it('releases held flows when an IP assignment or an external range covering them arrives', () => {
    const { ingestor } = ingestorWithMetadata();
    const latest = new LatestSnapshots();
    ingestor.ingest([flow(C(), end('10.0.6.6', 443), T0 + 1_000, 1), flow(C(), end('198.51.100.7', 443), T0 + 1_000, 2)], 's');
    expect(ingestor.heldCount()).toBe(2);
    ingestor.applyMetadata({ ipAssignment: { ip: '10.0.6.6', intermediaryId: 'lb-2', type: 'load-balancer', fromMs: T0 + 2_000 } });
    expect(ingestor.heldCount()).toBe(2); // assigned only after the flow's start
    ingestor.applyMetadata({ ipAssignment: { ip: '10.0.6.6', intermediaryId: 'lb-2', type: 'load-balancer', fromMs: T0 } });
    ingestor.applyMetadata({ externalRange: { cidr: '198.51.100.0/24', name: 'partner' } });
    expect(ingestor.heldCount()).toBe(0);
    latest.add(ingestor.flush().snapshots);
    expect(latest.entries().map((e) => e.key)).toEqual(['cluster:c-prod-v001 -> external:partner', 'intermediary:lb-2']);
    expect(ingestor.counters.get('flows_released')).toBe(2);
  });

  it('attributes the oldest held flows at once when the hold-back is full, and counts them', () => {
    const clock = new ManualClock(T0 + 20_000);
    const ingestor = new FlowIngestor({ ...config, maxHeldFlows: 2 }, clock);
    ingestor.ingest([1, 2, 3].map((i) => flow(C(), end(`10.9.0.${i}`, 443), T0 + 1_000, i)), 's');
    expect(ingestor.heldCount()).toBe(2);
    expect(ingestor.counters.get('flows_pushed_out')).toBe(1);
    expect(ingestor.flush().snapshots.map((s) => s.key)).toEqual(['cluster:c-prod-v001 -> unknown:private-unmapped/10.9.0.1']);
  });

  it('rejects unusable metadata through the next flush, without throwing', () => {
    const { ingestor } = ingestorWithMetadata();
    ingestor.applyMetadata({ ipAssignment: { ip: 'nope', intermediaryId: 'lb-3', type: 'load-balancer', fromMs: 0 } });
    ingestor.applyMetadata({ externalRange: { cidr: '10.0.0.0/99', name: 'x' } });
    ingestor.applyOwnership({ ip: '10.0.0.1', app: 'a', cluster: 'a-v001', fromMs: 10, toMs: 5 });
    expect(ingestor.flush().rejections.map((r) => r.reason)).toEqual(['invalid-value', 'invalid-value', 'invalid-time']);
    expect(ingestor.counters.get('metadata_rejected')).toBe(3);
  });
});
