import { ManualClock } from '@topology/model';
import { spectatorLines, type CallGroup } from '../testing/traffic';
import { DEFAULT_IPC_INGESTOR_CONFIG } from './ipc-ingestor-config';
import { IpcIngestor } from './ipc-ingestor';
import { DEFAULT_PEER_NAMING, PeerNamer } from './peer-naming';

describe('naming the other end of a call', () => {
  const namer = new PeerNamer({ ...DEFAULT_PEER_NAMING, externalHosts: { '.stripe.com': 'payments-psp', 'maps.example.net': 'maps-api' } });

  it.each([
    ['service', 'checkout', 'app:checkout'],
    ['host', 'checkout', 'app:checkout'],
    ['host', 'checkout.default.svc.cluster.local', 'app:checkout'],
    ['host', 'checkout-prod-canary-v013.internal:8443', 'app:checkout'],
    ['host', 'CHECKOUT.us-east-1.internal.', 'app:checkout'],
    ['host', 'api.stripe.com', 'external:payments-psp'],
    ['host', 'maps.example.net', 'external:maps-api'],
    ['host', 'api.github.com', 'external:api.github.com'],
    ['host', '10.0.3.7', undefined],
    ['host', '[2001:db8::1]:443', undefined],
    ['service', 'payments-psp', 'external:payments-psp'],
  ] as const)('%s %s is %s', (naming, name, expected) => {
    expect(namer.resolve(naming, name)).toBe(expected);
  });

  it('learns external service names from the metadata and moves calls already held to the external node', () => {
    const t0 = Date.UTC(2025, 2, 3, 9, 0, 0);
    const ipc = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(t0));
    const calls: CallGroup[] = [{ client: 'checkout', server: 'sms-provider', protocol: 'http', endpoint: 'POST /send', okMs: [40, 50], failedMs: [], failure: '500' }];
    // Only the client reports: an external service runs no instrumentation of ours.
    const clientLines = spectatorLines(calls, t0 + 10_000)
      .split('\n')
      .filter((l) => l.includes('ipc.client.call'))
      .join('\n');
    ipc.ingest(Buffer.from(clientLines), 'spectator');
    expect(ipc.flush().buckets.map((b) => b.dst)).toEqual(['app:sms-provider']);
    ipc.applyMetadata({ externalRange: { cidr: '203.0.113.64/26', name: 'sms-provider' } });
    const out = ipc.flush();
    expect(out.buckets.map((b) => b.dst)).toEqual(['external:sms-provider']);
    expect(out.withdrawn).toEqual([{ src: 'app:checkout', dst: 'app:sms-provider', granularity: 'app', bucketStartMs: t0 }]);
  });
});
