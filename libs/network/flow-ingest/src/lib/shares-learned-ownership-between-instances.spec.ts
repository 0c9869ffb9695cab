import { ManualClock } from '@topology/model';
import { FlowIngestor } from './flow-ingestor';
import { DEFAULT_FLOW_INGESTOR_CONFIG } from './flow-ingestor-config';
import { LatestSnapshots, T0, end, flow } from './testing/flows';

const config = DEFAULT_FLOW_INGESTOR_CONFIG;
const serverSide = (startMs: number) => flow(end('10.2.0.7', 50000), end('10.4.0.2', 8080, 'cart-prod-v003'), startMs, 1);
const clientSide = (startMs: number) => flow(end('10.2.0.7', 50000, 'c-prod-v001'), end('10.4.0.2', 8080), startMs, 100);

describe('ownership learned on one instance, used on another', () => {
  it('releases a flow held on one instance when another publishes the owner of its address', () => {
    const clock = new ManualClock(T0 + 20_000);
    const learner = new FlowIngestor(config, clock);
    const user = new FlowIngestor(config, clock);
    const latest = new LatestSnapshots();

    user.ingest([clientSide(T0 + 1_000)], 'us-east-1/flows/2');
    expect(user.heldCount()).toBe(1);
    learner.ingest([serverSide(T0 + 900)], 'us-east-1/flows/5');
    const { ownership } = learner.flush();
    expect(ownership).toEqual([{ ip: '10.4.0.2', app: 'cart', cluster: 'cart-prod-v003', fromMs: T0 + 900, toMs: T0 + 1_400 }]);

    for (const range of ownership) user.applyOwnership(range);
    expect(user.heldCount()).toBe(0);
    const flushed = user.flush();
    latest.add(flushed.snapshots);
    expect(latest.bytesByEdge()).toEqual({ '0 cluster:c-prod-v001 -> cluster:cart-prod-v003': 100 });
    expect(flushed.ownership.map((r) => r.ip)).toEqual(['10.2.0.7']); // its own evidence; the range learned elsewhere is not published again
  });

  it('publishes an extended range again once per publish interval', () => {
    const clock = new ManualClock(T0 + 20_000);
    const learner = new FlowIngestor(config, clock);
    learner.ingest([serverSide(T0)], 's');
    expect(learner.flush().ownership.map((r) => r.toMs - T0)).toEqual([500]);
    learner.ingest([serverSide(T0 + 400)], 's');
    expect(learner.flush().ownership.map((r) => r.toMs - T0)).toEqual([900]);
    learner.ingest([serverSide(T0 + 800)], 's');
    clock.advance(config.ownershipPublishIntervalMs - 1);
    expect(learner.flush().ownership).toEqual([]);
    learner.ingest([serverSide(T0 + 1_200)], 's');
    clock.advance(1);
    expect(learner.flush().ownership.map((r) => [r.fromMs - T0, r.toMs - T0])).toEqual([[0, 1_700]]);
    expect(learner.counters.get('ownership_ranges_published')).toBe(3);
  });

  it('applies its own published ranges back without effect', () => {
    const clock = new ManualClock(T0 + 20_000);
    const learner = new FlowIngestor(config, clock);
    learner.ingest([serverSide(T0)], 's');
    const { ownership } = learner.flush();
    for (const range of ownership) learner.applyOwnership(range);
    expect(learner.flush().ownership).toEqual([]);
    expect(learner.stateSizes()).toMatchObject({ ownedAddresses: 1, ownershipRanges: 1 });
  });
});
