import { ExternalRanges, parseNatLine, ReportedOwnership } from '../testing/read-simulation';
import { simulationRun } from '../testing/default-run';

describe('addresses in a default run', () => {
  const { fleet, truth, output } = simulationRun();
  const ownership = new ReportedOwnership(output.flows);
  const externals = new ExternalRanges(output.metadata);
  const intermediaryIps = new Set(output.metadata.flatMap((e) => ('ipAssignment' in e ? [e.ipAssignment.ip] : [])));

  it('every workload address seen as a remote end is owned at that instant by exactly one host that reports records covering it', () => {
    const problems: string[] = [];
    for (const f of output.flows) {
      if (intermediaryIps.has(f.remote.ip) || externals.nameOf(f.remote.ip)) continue;
      const owners = ownership.ownersAt(f.remote.ip, f.startMs);
      if (owners.length !== 1) problems.push(`${f.remote.ip} at ${f.startMs}: ${owners.length} owners`);
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('NAT log client addresses are owned at the log line start by a reporting host', () => {
    const problems: string[] = [];
    for (const line of output.natFlowLog) {
      const n = parseNatLine(line);
      if (n.direction !== 'ingress' || n.pktSrcaddr !== n.srcaddr || externals.nameOf(n.srcaddr)) continue;
      if (ownership.ownersAt(n.srcaddr, n.startS * 1000).length !== 1) problems.push(line);
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('no address is reported by two hosts over overlapping times', () => {
    expect(ownership.conflicts()).toEqual([]);
  });

  it('intermediary addresses are assigned for the whole run and never reported by a host', () => {
    for (const e of output.metadata) {
      if (!('ipAssignment' in e)) continue;
      expect(e.ipAssignment.fromMs).toBeLessThanOrEqual(fleet.startMs);
      expect(e.ipAssignment.toMs ?? 0).toBe(0);
      expect(ownership.owners(e.ipAssignment.ip)).toEqual([]);
    }
  });

  it('reassigned addresses are reported by hosts of two different apps, and some change hands inside one window', () => {
    expect(truth.reassignedIps.length).toBeGreaterThan(0);
    let sameWindow = 0;
    for (const ip of truth.reassignedIps) {
      const owners = ownership.owners(ip);
      const apps = [...new Set(owners.map((o) => o.app))];
      expect(apps.length).toBe(2);
      const first = owners.filter((o) => o.app === owners[0]?.app);
      const second = owners.filter((o) => o.app !== owners[0]?.app);
      const lastOfFirst = Math.max(...first.map((o) => o.endMs));
      const firstOfSecond = Math.min(...second.map((o) => o.startMs));
      expect(lastOfFirst).toBeLessThan(firstOfSecond);
      const window = (t: number): number => Math.floor(t / fleet.config.intervalMs);
      if (window(lastOfFirst) === window(firstOfSecond)) sameWindow++;
    }
    expect(sameWindow).toBeGreaterThan(0);
  });

  it('reassigned addresses are dialled as remote ends under both owners', () => {
    for (const ip of truth.reassignedIps) {
      const remoteOwnerApps = new Set<string>();
      for (const f of output.flows) {
        if (f.remote.ip !== ip) continue;
        for (const o of ownership.ownersAt(ip, f.startMs)) remoteOwnerApps.add(o.app);
      }
      expect(remoteOwnerApps.size).toBe(2);
    }
  });
});
