import { TraceBuilder } from './testdata/span-builder';
import { callSource, callTarget, pairTrace, TracePairing } from './trace-pairing';

function edges(pairing: TracePairing, granularity: 'app' | 'cluster' = 'app'): string[] {
  return pairing.calls.map((c) => `${callSource(c, granularity)} -> ${callTarget(c, granularity)} (${c.kind})`);
}

describe('pairing a trace into calls between services', () => {
  it('makes client → server calls, timed by the client, named by the server', () => {
    const t = new TraceBuilder('a'.repeat(32));
    const root = t.span('web', 'server', { atUs: 0, durationUs: 9_000 });
    const toOrders = t.span('web', 'client', { parent: root, atUs: 100, durationUs: 8_000 });
    const ordersServer = t.span('orders', 'server', { parent: toOrders, atUs: 300, durationUs: 7_000, name: 'GET /orders/{id}' });
    const work = t.span('orders', 'internal', { parent: ordersServer, atUs: 400 });
    const toStock = t.span('orders', 'client', { parent: work, atUs: 500, durationUs: 2_000, error: true });
    const stockServer = t.span('stock', 'server', { parent: toStock, atUs: 600, durationUs: 1_500, name: 'Reserve' });

    const pairing = pairTrace([stockServer, work, root, toStock, ordersServer, toOrders]);

    expect(edges(pairing)).toEqual(['app:web -> app:orders (client)', 'app:orders -> app:stock (client)']);
    const [first, second] = pairing.calls;
    expect(first).toMatchObject({ startUs: toOrders.startUs, durationUs: 8_000, operation: 'GET /orders/{id}', error: false });
    expect(second).toMatchObject({ startUs: toStock.startUs, durationUs: 2_000, operation: 'Reserve', error: true });
    expect(pairing).toMatchObject({ orphans: 0, unpaired: 0, duplicates: 0 });
  });

  it('makes producer → consumer calls and parent → child calls across a boundary without client spans', () => {
    const t = new TraceBuilder('b'.repeat(32));
    const root = t.span('checkout', 'server');
    const publish = t.span('checkout', 'producer', { parent: root, name: 'orders publish' });
    const consume = t.span('fulfillment', 'consumer', { parent: publish, name: 'orders process' });
    const job = t.span('fulfillment', 'internal', { parent: consume });
    const inlined = t.span('labels', 'internal', { parent: job, name: 'print' });

    expect(edges(pairTrace([inlined, job, consume, publish, root]))).toEqual([
      'app:checkout -> app:fulfillment (producer)',
      'app:fulfillment -> app:labels (internal)',
    ]);
  });

  it('counts one call per client span and process, however many of its children run there', () => {
    const t = new TraceBuilder('c'.repeat(32));
    const client = t.span('web', 'client');
    const server = t.span('orders', 'server', { parent: client, atUs: 200, name: 'GET /orders' });
    const stray = t.span('orders', 'internal', { parent: client, atUs: 100, name: 'decode' });

    const pairing = pairTrace([stray, server, client]);

    expect(edges(pairing)).toEqual(['app:web -> app:orders (client)']);
    // The server span received the call, even though another child started earlier.
    expect(pairing.calls[0]?.operation).toBe('GET /orders');
  });

  it('lets a nested client span of the same service make the call, without a virtual call from its parent', () => {
    const t = new TraceBuilder('d'.repeat(32));
    const directory = t.directory;
    const rpc = t.span('web', 'client', { peer: directory.peer('orders', 'service'), name: 'orders.Get' });
    const http = t.span('web', 'client', { parent: rpc, name: 'POST' });
    const server = t.span('orders', 'server', { parent: http });

    const pairing = pairTrace([server, http, rpc]);

    expect(edges(pairing)).toEqual(['app:web -> app:orders (client)']);
    expect(pairing.unpaired).toBe(0);
  });

  it('calls the virtual peer a lone client span names, and counts the ones that name none or themselves', () => {
    const t = new TraceBuilder('e'.repeat(32));
    const d = t.directory;
    const root = t.span('orders', 'server');
    const toDb = t.span('orders', 'client', { parent: root, peer: d.peer('ordersdb', 'service') });
    const toPsp = t.span('orders', 'client', { parent: root, peer: d.peer('api.psp.example', 'address') });
    const anonymous = t.span('orders', 'client', { parent: root });
    const toSelf = t.span('orders', 'client', { parent: root, peer: d.peer('orders', 'service') });

    const pairing = pairTrace([root, toDb, toPsp, anonymous, toSelf]);

    expect(edges(pairing)).toEqual(['app:orders -> app:ordersdb (client)', 'app:orders -> external:api.psp.example (client)']);
    expect(edges(pairing, 'cluster')).toEqual(['cluster:orders -> app:ordersdb (client)', 'cluster:orders -> external:api.psp.example (client)']);
    expect(pairing.unpaired).toBe(2);
  });

  it('counts spans whose parent never arrived as orphans, and makes no call from them', () => {
    const t = new TraceBuilder('f'.repeat(32));
    const server = t.span('orders', 'server', { parent: '00000000000000aa' });
    const child = t.span('stock', 'server', { parent: server });

    const pairing = pairTrace([child, server]);

    expect(edges(pairing)).toEqual(['app:orders -> app:stock (server)']);
    expect(pairing.orphans).toBe(1);
  });

  it('keeps deployments apart at cluster level: two clusters of one app are an app-level self call', () => {
    const t = new TraceBuilder('1'.repeat(32));
    const client = t.span('orders', 'client', { cluster: 'orders-prod-v001' });
    const server = t.span('orders', 'server', { parent: client, cluster: 'orders-prod-canary-v002' });

    const pairing = pairTrace([client, server]);

    expect(edges(pairing, 'cluster')).toEqual(['cluster:orders-prod-v001 -> cluster:orders-prod-canary-v002 (client)']);
    expect(edges(pairing, 'app')).toEqual(['app:orders -> app:orders (client)']);
  });
});

describe('pairing Zipkin spans that share ids', () => {
  it('reads a shared server half as the child of its client half, and its copied parent id as nothing more', () => {
    const t = new TraceBuilder('2'.repeat(16).padStart(32, '0'));
    const frontRoot = t.span('front', 'server', { id: '00000000000000f1' });
    const frontClient = t.span('front', 'client', { id: '00000000000000c1', parent: frontRoot });
    const midHalf = t.span('mid', 'server', { id: '00000000000000c1', parent: frontRoot, sharedServer: true });
    const midClient = t.span('mid', 'client', { id: '00000000000000c2', parent: midHalf });
    const backHalf = t.span('back', 'server', { id: '00000000000000c2', parent: midHalf, sharedServer: true });
    // A child of the shared id in the server's process belongs to the server half, not the client half.
    const midLocal = t.span('mid', 'internal', { id: '00000000000000a1', parent: '00000000000000c1' });

    const pairing = pairTrace([backHalf, midLocal, midClient, midHalf, frontClient, frontRoot]);

    expect(edges(pairing).sort()).toEqual(['app:front -> app:mid (client)', 'app:mid -> app:back (client)']);
  });

  it('pairs an older server half that reuses the client id without the shared flag, in either order', () => {
    const t = new TraceBuilder('3'.repeat(32));
    const client = t.span('a', 'client', { id: '00000000000000c1' });
    const server = t.span('b', 'server', { id: '00000000000000c1' });

    expect(edges(pairTrace([client, server]))).toEqual(['app:a -> app:b (client)']);
    expect(edges(pairTrace([server, client]))).toEqual(['app:a -> app:b (client)']);
  });

  it('folds a span reported in fragments or twice into one, counting the extra parts', () => {
    const t = new TraceBuilder('4'.repeat(32));
    const client = t.span('a', 'client', { id: '00000000000000c1' });
    const half = t.span('b', 'server', { id: '00000000000000c1', sharedServer: true });
    const fragment = { ...t.span('b', 'internal', { id: '00000000000000c1' }), startUs: 0, durationUs: 0, name: '' };
    const retried = t.span('b', 'server', { id: '00000000000000c1', sharedServer: true, atUs: 50 });

    const pairing = pairTrace([fragment, client, half, retried, client]);

    expect(edges(pairing)).toEqual(['app:a -> app:b (client)']);
    expect(pairing.duplicates).toBe(3);
  });
});
