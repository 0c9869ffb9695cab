import { SpanDecoder } from './span-decoder';

function clientSpanPeer(attributes: Record<string, string>, kind = 3): string | undefined {
  const request = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'orders' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: '0af7651916cd43dd8448eb211c80319c',
                spanId: 'b7ad6b7169203331',
                kind,
                startTimeUnixNano: '1700000000000000000',
                endTimeUnixNano: '1700000000001000000',
                attributes: Object.entries(attributes).map(([key, value]) => ({ key, value: { stringValue: value } })),
              },
            ],
          },
        ],
      },
    ],
  };
  const { spans } = new SpanDecoder().otlpJson(JSON.stringify(request));
  return spans[0]?.peer?.node;
}

describe('naming the virtual peer of a client or producer span', () => {
  it.each([
    [{ 'service.peer.name': 'ordersdb' }, 'app:ordersdb'],
    [{ 'peer.service': 'ordersdb' }, 'app:ordersdb'],
    [{ 'service.peer.name': 'new-name', 'peer.service': 'old-name' }, 'app:new-name'],
    [{ 'server.address': 'api.psp.example' }, 'external:api.psp.example'],
    [{ 'net.peer.name': 'api.psp.example' }, 'external:api.psp.example'],
    [{ 'server.address': 'new.example', 'net.peer.name': 'old.example' }, 'external:new.example'],
    [{ 'server.address': 'orders.shop.svc.cluster.local:8080' }, 'app:orders'],
    [{ 'server.address': 'Ledger.Internal.' }, 'app:ledger'],
    [{ 'server.address': 'api.psp.example:443' }, 'external:api.psp.example'],
    [{ 'server.address': '10.1.2.80' }, undefined],
    [{ 'server.address': '10.1.2.80', 'db.system.name': 'postgresql' }, 'external:postgresql'],
    [{ 'server.address': '[::1]:5432' }, undefined],
    [{ 'db.system.name': 'postgresql', 'db.namespace': 'orders' }, 'external:postgresql/orders'],
    [{ 'db.system': 'mysql', 'db.name': 'shop' }, 'external:mysql/shop'],
    [{ 'db.system': 'redis' }, 'external:redis'],
    [{ 'messaging.system': 'kafka', 'messaging.destination.name': 'orders' }, 'external:kafka/orders'],
    [{ 'messaging.system': 'rabbitmq', 'messaging.destination': 'jobs' }, 'external:rabbitmq/jobs'],
    [{ 'peer.service': 'ledger', 'server.address': 'ledger.internal', 'db.system': 'postgresql' }, 'app:ledger'],
    [{ 'server.address': 'pg.example.net', 'db.system.name': 'postgresql' }, 'external:pg.example.net'],
    [{ 'server.address': 'Order Store' }, 'external:order_store'],
    [{ 'http.url': 'https://api.example/v1' }, undefined],
  ])('%j names %s', (attributes, node) => {
    expect(clientSpanPeer(attributes)).toBe(node);
  });

  it('reads peers of producer spans too, and of no other kind', () => {
    expect(clientSpanPeer({ 'messaging.system': 'kafka' }, 4)).toBe('external:kafka');
    expect(clientSpanPeer({ 'peer.service': 'ledger' }, 2)).toBeUndefined();
    expect(clientSpanPeer({ 'peer.service': 'ledger' }, 1)).toBeUndefined();
  });
});
