import { decodeFlowRecordBatch, encodeFlowRecordBatch, FlowRecord } from '@topology/contracts';
import { parseClusterName } from '@topology/model';
import { flowRecordJson } from './flow-record-json';
import { simulationRun } from '../testing/default-run';

const FIELDS = ['local', 'remote', 'localIdentity', 'role', 'protocol', 'startMs', 'endMs', 'bytesSent', 'bytesReceived', 'packetsSent', 'packetsReceived', 'retransmits', 'rttUs', 'connections'];
const COUNTERS = ['bytesSent', 'bytesReceived', 'packetsSent', 'packetsReceived', 'retransmits', 'rttUs', 'connections'] as const;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function problemsOf(f: FlowRecord, batchStartMs: number, intervalMs: number): string[] {
  const problems: string[] = [];
  if (Object.keys(f).join() !== FIELDS.join()) problems.push(`fields ${Object.keys(f).join()}`);
  for (const end of [f.local, f.remote]) {
    const m = IPV4.exec(end.ip);
    if (!m || m.slice(1).some((o) => Number(o) > 255)) problems.push(`address ${end.ip}`);
    if (!Number.isInteger(end.port) || end.port < 1 || end.port > 65535) problems.push(`port ${end.port}`);
  }
  if (f.role !== 'client' && f.role !== 'server') problems.push(`role ${f.role}`);
  if (f.protocol !== 'tcp') problems.push(`protocol ${f.protocol}`);
  if (!Number.isInteger(f.startMs) || !Number.isInteger(f.endMs) || f.endMs < f.startMs) problems.push(`times ${f.startMs}..${f.endMs}`);
  if (f.startMs < batchStartMs || f.endMs >= batchStartMs + intervalMs) problems.push(`outside its interval ${f.startMs}..${f.endMs}`);
  for (const c of COUNTERS) if (!Number.isInteger(f[c]) || f[c] < 0) problems.push(`${c} ${f[c]}`);
  if (f.bytesSent + f.bytesReceived <= 0 || f.packetsSent < 1 || f.packetsReceived < 1) problems.push('no traffic');
  if (f.connections > 1) problems.push(`connections ${f.connections}`);
  const id = f.localIdentity;
  if (!id.app || !id.cluster || !id.instance || !id.region || !id.zone || !id.account) problems.push('incomplete identity');
  if (parseClusterName(id.cluster).app !== id.app) problems.push(`cluster ${id.cluster} of app ${id.app}`);
  if (!id.zone?.startsWith(id.region ?? '-')) problems.push(`zone ${id.zone} in ${id.region}`);
  return problems;
}

describe('flow records of a default run', () => {
  const { fleet, output } = simulationRun();

  it('stays within a few hundred thousand records', () => {
    expect(output.flows.length).toBeGreaterThan(50_000);
    expect(output.flows.length).toBeLessThan(400_000);
  });

  it('are complete canonical FlowRecords, each inside the interval of its batch', () => {
    const problems: string[] = [];
    output.flows.forEach((f, i) => {
      for (const p of problemsOf(f, output.batchStartMs[i] ?? 0, fleet.config.intervalMs)) problems.push(`${i}: ${p}`);
    });
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('come in time order, batch by batch', () => {
    const backwards = output.batchStartMs.filter((t, i) => i > 0 && t < (output.batchStartMs[i - 1] ?? 0));
    expect(backwards).toEqual([]);
    expect(output.batchStartMs[0]).toBe(fleet.startMs);
    expect(output.batchStartMs[output.batchStartMs.length - 1]).toBe(fleet.endMs - fleet.config.intervalMs);
  });

  it('have both sides of every workload-to-workload connection, mirrored', () => {
    const clients = new Map<string, FlowRecord>();
    for (const f of output.flows) if (f.role === 'client') clients.set(`${f.local.ip}:${f.local.port}>${f.remote.ip}:${f.remote.port}@${f.startMs}`, f);
    let mirrored = 0;
    const mismatched: string[] = [];
    for (const f of output.flows) {
      if (f.role !== 'server') continue;
      const c = clients.get(`${f.remote.ip}:${f.remote.port}>${f.local.ip}:${f.local.port}@${f.startMs}`);
      if (!c) continue;
      mirrored++;
      if (f.endMs !== c.endMs || f.bytesSent !== c.bytesReceived || f.bytesReceived !== c.bytesSent || f.connections !== c.connections) {
        mismatched.push(flowRecordJson(f));
      }
    }
    expect(mismatched.slice(0, 5)).toEqual([]);
    expect(mirrored).toBeGreaterThan(output.flows.length / 4);
  });

  it('include long-lived connections that report again in later intervals without a new connection', () => {
    expect(output.flows.some((f) => f.connections === 0)).toBe(true);
    expect(output.flows.some((f) => f.connections === 1)).toBe(true);
  });

  it('serialise to the same JSON as JSON.stringify and survive the protobuf batch codec', () => {
    const sample = output.flows.filter((_, i) => i % 997 === 0);
    for (const f of sample) expect(flowRecordJson(f)).toBe(JSON.stringify(f));
    const decoded = decodeFlowRecordBatch(encodeFlowRecordBatch(sample));
    expect(decoded.map((d) => [d['startMs'], (d['local'] as { ip: string }).ip, d['bytesSent']])).toEqual(sample.map((f) => [f.startMs, f.local.ip, f.bytesSent]));
  });
});
