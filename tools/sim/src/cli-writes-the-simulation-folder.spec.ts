import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseCliArgs } from './cli';
import { NAT_FLOW_LOG_FORMAT } from './lib/nat-flow-log';
import { SIMULATION_FILES, writeSimulation } from './lib/write-simulation';

describe('the simulation CLI', () => {
  it('reads its options', () => {
    expect(parseCliArgs(['--seed', '42', '--out', '.data/sim', '--minutes', '5', '--apps', '120', '--start', '2025-03-03T10:00:00Z'])).toEqual({
      out: '.data/sim',
      config: { seed: 42, minutes: 5, apps: 120, scale: undefined, startMs: Date.UTC(2025, 2, 3, 10), loadBalancers: undefined, churnShare: undefined },
    });
    expect(() => parseCliArgs(['--seed'])).toThrow(/usage/);
    expect(() => parseCliArgs(['--colour', 'blue'])).toThrow(/unknown option --colour/);
    expect(() => parseCliArgs(['--apps', 'many'])).toThrow(/--apps must be a number/);
  });

  it('writes records, NAT log and its format, metadata and truth that agree with its summary', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-'));
    try {
      const summary = writeSimulation({ seed: 5, apps: 40, minutes: 1 }, out);
      const lines = (name: string): string[] => fs.readFileSync(path.join(out, name), 'utf8').split('\n').filter((l) => l.length > 0);
      const flows = lines(SIMULATION_FILES.flows).map((l) => JSON.parse(l) as { role: string });
      expect(flows.length).toBe(summary.flowRecords);
      expect(new Set(flows.map((f) => f.role))).toEqual(new Set(['client', 'server']));
      expect(lines(SIMULATION_FILES.natFlowLog).length).toBe(summary.natFlowLogLines);
      expect(fs.readFileSync(path.join(out, SIMULATION_FILES.natFlowLogFormat), 'utf8').trim()).toBe(NAT_FLOW_LOG_FORMAT);
      const metadata = lines(SIMULATION_FILES.metadata).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(metadata.length).toBe(summary.metadataEvents);
      expect(metadata.filter((m) => 'app' in m).length).toBe(40);
      const truth = JSON.parse(fs.readFileSync(path.join(out, SIMULATION_FILES.truth), 'utf8')) as { appEdges: unknown[]; clusterEdges: unknown[]; reassignedIps: string[] };
      expect([truth.appEdges.length, truth.clusterEdges.length, truth.reassignedIps.length]).toEqual([summary.appEdges, summary.clusterEdges, summary.reassignedIps]);
      expect(summary.clusterEdges).toBeGreaterThan(0);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
