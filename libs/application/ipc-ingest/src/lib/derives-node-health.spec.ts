import { ManualClock } from '@topology/model';
import { otlpRequests, type CallGroup } from '../testing/traffic';
import { DEFAULT_HEALTH_THRESHOLDS, DEFAULT_IPC_INGESTOR_CONFIG } from './ipc-ingestor-config';
import { IpcIngestor } from './ipc-ingestor';
import { healthFromCalls } from './node-health';

const T0 = Date.UTC(2025, 2, 3, 9, 0, 0);

function calls(server: string, ok: number, failed: number, okMs = 20): CallGroup[] {
  return [{ client: 'caller', server, protocol: 'grpc', endpoint: 'a.S/M', okMs: new Array<number>(ok).fill(okMs), failedMs: new Array<number>(failed).fill(okMs), failure: 'UNAVAILABLE' }];
}

function healthOf(groups: CallGroup[], options: { servers?: 'named-callers' | 'none' } = {}) {
  const clock = new ManualClock(T0);
  const ipc = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, clock);
  for (const r of otlpRequests(groups, { names: 'current', startMs: T0, endMs: T0 + 30_000, ...options })) ipc.ingest(r, 'otlp-protobuf');
  return { ipc, clock, nodes: new Map<string, string>(ipc.flush().nodes.map((n): [string, string] => [n.id, n.health ?? 'unknown'])) };
}

describe('node health from IPC metrics', () => {
  it('follows the error rate through the thresholds', () => {
    expect(healthOf(calls('a', 100, 0)).nodes.get('app:a')).toBe('healthy');
    expect(healthOf(calls('a', 90, 10)).nodes.get('app:a')).toBe('degraded');
    expect(healthOf(calls('a', 60, 40)).nodes.get('app:a')).toBe('unhealthy');
  });

  it('follows p99 latency through the thresholds', () => {
    expect(healthOf(calls('a', 100, 0, 3_000)).nodes.get('app:a')).toBe('degraded');
    expect(healthOf(calls('a', 100, 0, 12_000)).nodes.get('app:a')).toBe('unhealthy');
  });

  it('says unknown with too few calls to judge', () => {
    expect(healthOf(calls('a', 3, 3)).nodes.get('app:a')).toBe('unknown');
  });

  it('judges an uninstrumented server by what its callers saw', () => {
    const { nodes } = healthOf(calls('a', 50, 50), { servers: 'none' });
    expect(nodes.get('app:a')).toBe('unhealthy');
    // The caller served nothing and nobody reported calls to it.
    expect(nodes.get('app:caller')).toBe('unknown');
  });

  it('lets a health event override what the metrics say, until it is older than eventTtlMs', () => {
    const { ipc, clock } = healthOf(calls('a', 100, 0));
    ipc.applyMetadata({ health: { nodeId: 'app:a', health: 'unhealthy', atMs: T0 + 10_000 } });
    expect(ipc.flush().nodes.map((n) => [n.id, n.health])).toEqual([['app:a', 'unhealthy']]);
    clock.advance(DEFAULT_HEALTH_THRESHOLDS.eventTtlMs + 60_000);
    for (const r of otlpRequests(calls('a', 100, 0), { names: 'current', startMs: T0 + DEFAULT_HEALTH_THRESHOLDS.eventTtlMs, endMs: T0 + DEFAULT_HEALTH_THRESHOLDS.eventTtlMs + 20_000 })) {
      ipc.ingest(r, 'otlp-protobuf');
    }
    expect(ipc.flush().nodes.find((n) => n.id === 'app:a')?.health).toBe('healthy');
  });

  it('gives app nodes the context of their app metadata', () => {
    const { ipc } = healthOf(calls('a', 100, 0));
    ipc.applyMetadata({ app: { app: 'a', owner: 'team-a', domain: 'payments', tier: 'tier-0' } });
    expect(ipc.flush().nodes).toEqual([expect.objectContaining({ id: 'app:a', owner: 'team-a', domain: 'payments', tier: 'tier-0', health: 'healthy' })]);
  });

  it('uses documented defaults', () => {
    expect(healthFromCalls({ calls: 100, errors: 4, latency: undefined }, DEFAULT_HEALTH_THRESHOLDS)).toBe('healthy');
    expect(healthFromCalls({ calls: 100, errors: 5, latency: undefined }, DEFAULT_HEALTH_THRESHOLDS)).toBe('degraded');
    expect(healthFromCalls({ calls: 100, errors: 25, latency: undefined }, DEFAULT_HEALTH_THRESHOLDS)).toBe('unhealthy');
  });
});
