import { parseClusterName } from '@topology/model';
import { fleetMetadata } from './metadata';
import { planFleet } from './fleet';
import { fleetTruth } from './truth';

describe('a fleet planned with the defaults', () => {
  const fleet = planFleet();
  const truth = fleetTruth(fleet);
  const metadata = fleetMetadata(fleet);

  it('has at least 200 readable, unique apps with 2 to 4 clusters each, at least 600 clusters in all', () => {
    expect(fleet.apps.length).toBeGreaterThanOrEqual(200);
    expect(new Set(fleet.apps.map((a) => a.name)).size).toBe(fleet.apps.length);
    for (const app of fleet.apps) {
      expect(app.name).toMatch(/^[a-z][a-z0-9]*$/);
      expect(app.clusters.length).toBeGreaterThanOrEqual(2);
      expect(app.clusters.length).toBeLessThanOrEqual(4);
    }
    expect(fleet.clusters.length).toBeGreaterThanOrEqual(600);
  });

  it('names clusters app-stack-detail-vNNN, so the app parses back out of each', () => {
    expect(new Set(fleet.clusters.map((c) => c.name)).size).toBe(fleet.clusters.length);
    for (const c of fleet.clusters) {
      expect(c.name).toMatch(/^[a-z0-9]+-(prod|test)(-[a-z]+)?-v\d{3}$/);
      expect(parseClusterName(c.name).app).toBe(c.app.name);
    }
    expect(fleet.clusters.some((c) => c.canary)).toBe(true);
  });

  it('spreads clusters over two regions with calls across them', () => {
    const regions = new Map(fleet.clusters.map((c) => [`cluster:${c.name}`, c.region]));
    expect(new Set(regions.values())).toEqual(new Set(['us-east-1', 'eu-west-1']));
    const crossRegion = truth.clusterEdges.filter((e) => regions.has(e.dst) && regions.get(e.src) !== regions.get(e.dst));
    expect(crossRegion.length).toBeGreaterThan(0);
  });

  it('has at least 20 load balancers in use, each fronting 1 to 3 clusters of one app, some with two listeners', () => {
    expect(fleet.loadBalancers.length).toBeGreaterThanOrEqual(20);
    const used = truth.expectedIntermediaries.filter((id) => id.startsWith('intermediary:lb-'));
    expect(used.length).toBe(fleet.loadBalancers.length);
    for (const lb of fleet.loadBalancers) {
      const fronted = new Set(lb.listeners.flatMap((l) => l.targets));
      expect(fronted.size).toBeGreaterThanOrEqual(1);
      expect(fronted.size).toBeLessThanOrEqual(3);
      expect(new Set([...fronted].map((c) => c.app)).size).toBe(1);
    }
    const twoListeners = fleet.loadBalancers.filter((lb) => lb.listeners.length === 2);
    expect(twoListeners.length).toBeGreaterThan(0);
    const announced = metadata.flatMap((e) => ('listener' in e ? [e.listener] : []));
    expect(announced.length).toBe(twoListeners.length * 2);
    expect(new Set(announced.map((l) => l.port))).toEqual(new Set([443, 8443]));
  });

  it('has one NAT gateway per region in front of named external ranges', () => {
    expect(fleet.natGateways.map((n) => n.region).sort()).toEqual(['eu-west-1', 'us-east-1']);
    const ranges = metadata.flatMap((e) => ('externalRange' in e ? [e.externalRange.name] : []));
    expect(ranges).toEqual(expect.arrayContaining(['payments-psp', 'sms-provider', 'maps-api']));
    expect(truth.clusterEdges.some((e) => e.dst.startsWith('external:'))).toBe(true);
  });

  it('marks exactly one app as an API gateway that proxies to many backend apps', () => {
    const gateways = metadata.flatMap((e) => ('app' in e && e.app.intermediaryType ? [e.app] : []));
    expect(gateways).toEqual([expect.objectContaining({ app: 'apigateway', intermediaryType: 'api-gateway' })]);
    const backends = new Set(truth.appEdges.filter((e) => e.vias.some((v) => v[0] === 'app:apigateway')).map((e) => e.dst));
    expect(backends.size).toBeGreaterThanOrEqual(10);
  });

  it('gives every app metadata with an owner team, a domain and a tier', () => {
    const described = metadata.flatMap((e) => ('app' in e ? [e.app] : []));
    expect(described.map((a) => a.app).sort()).toEqual(fleet.apps.map((a) => a.name).sort());
    for (const a of described) {
      expect(a.owner).toBeTruthy();
      expect(a.domain).toBeTruthy();
      expect(a.tier).toMatch(/^tier-[0-3]$/);
    }
  });

  it('churns instances and hands their addresses to other apps', () => {
    expect(truth.reassignedIps.length).toBeGreaterThan(0);
    for (const r of fleet.reassignments) {
      expect(r.next.cluster.app).not.toBe(r.previous.cluster.app);
      expect(r.next.bornMs).toBeGreaterThan(r.previous.diedMs);
      expect(r.previous.diedMs).toBeGreaterThan(fleet.startMs);
      expect(r.next.bornMs).toBeLessThan(fleet.endMs);
    }
    expect(fleet.reassignments.some((r) => r.sameInterval)).toBe(true);
    expect(fleet.reassignments.some((r) => !r.sameInterval)).toBe(true);
  });

  it('skews traffic: the most popular callee draws far more request connections than the median one', () => {
    const rateByCallee = new Map<string, number>();
    for (const r of fleet.routes) {
      if (r.kind !== 'direct' || r.pooled) continue;
      rateByCallee.set(r.server.app.name, (rateByCallee.get(r.server.app.name) ?? 0) + r.rate);
    }
    const rates = [...rateByCallee.values()].sort((a, b) => b - a);
    expect((rates[0] ?? 0) / (rates[Math.floor(rates.length / 2)] ?? 1)).toBeGreaterThan(5);
  });
});
