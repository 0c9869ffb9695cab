import * as fs from 'fs';
import * as path from 'path';
import type { EdgeContribution, FlowAggregate, MetadataEvent, WindowRef } from '@topology/contracts';
import { ManualClock, peerNodeId } from '@topology/model';
import { AppliedContributions, flow, flushUntilSettled } from '../testing/resolution-run';
import { IntermediaryResolver } from './intermediary-resolver';
import { DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, IntermediaryResolverConfig } from './intermediary-resolver-config';

/**
 * Golden scenarios: `testdata/<scenario>.input.json` holds metadata and snapshots (entries list
 * only the fields that matter; counters default to 0, confidence to 1, via to none), and
 * `<scenario>.expected.json` the contributions a downstream consumer holds at the end.
 */

interface ScenarioInput {
  description: string;
  config?: Partial<IntermediaryResolverConfig>;
  metadata?: MetadataEvent[];
  window?: WindowRef;
  snapshots: { scope: string; key: string; entries: FlowAggregate[] }[];
}

interface ExpectedEdge {
  scope: string;
  src: string;
  dst: string;
  hop: boolean;
  via: string[];
  confidence: number;
  bytesSent: number;
  bytesReceived: number;
  connections: number;
  ports: string[];
}

const TESTDATA = path.join(__dirname, '..', '..', 'testdata');
const scenarios = fs
  .readdirSync(TESTDATA)
  .filter((f) => f.endsWith('.input.json'))
  .map((f) => f.slice(0, -'.input.json'.length))
  .sort();

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(TESTDATA, file), 'utf8')) as T;
}

function asExpected(c: EdgeContribution): ExpectedEdge {
  return {
    scope: c.scope,
    src: peerNodeId(c.src, 'cluster'),
    dst: peerNodeId(c.dst, 'cluster'),
    hop: c.hop,
    via: c.via,
    confidence: c.confidence,
    bytesSent: c.bytesSent,
    bytesReceived: c.bytesReceived,
    connections: c.connections,
    ports: c.ports.map((p) => `${p.protocol}/${p.port}`),
  };
}

function order(a: ExpectedEdge, b: ExpectedEdge): number {
  const ka = `${a.scope} ${a.src} ${a.dst}`;
  const kb = `${b.scope} ${b.src} ${b.dst}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Numbers within a relative 1e-9: apportioned bytes are products of float ratios. */
function expectEdgesClose(actual: ExpectedEdge[], expected: ExpectedEdge[]): void {
  expect(actual.map((e) => `${e.scope} ${e.src} ${e.dst}`)).toEqual(expected.map((e) => `${e.scope} ${e.src} ${e.dst}`));
  expected.forEach((want, i) => {
    const got = actual[i] as ExpectedEdge;
    const label = `${want.scope} ${want.src} -> ${want.dst}`;
    expect({ label, hop: got.hop, via: got.via, ports: got.ports }).toEqual({ label, hop: want.hop, via: want.via, ports: want.ports });
    for (const field of ['confidence', 'bytesSent', 'bytesReceived', 'connections'] as const) {
      const tolerance = 1e-9 * Math.max(1, Math.abs(want[field]));
      if (Math.abs(got[field] - want[field]) > tolerance) {
        throw new Error(`${label}: ${field} is ${got[field]}, expected ${want[field]}`);
      }
    }
  });
}

describe('golden resolution scenarios', () => {
  it('has scenarios to run', () => {
    expect(scenarios.length).toBeGreaterThan(0);
  });

  it.each(scenarios)('%s', (scenario) => {
    const input = readJson<ScenarioInput>(`${scenario}.input.json`);
    const expected = readJson<{ edges: ExpectedEdge[] }>(`${scenario}.expected.json`).edges;
    const window = input.window ?? { startMs: 0, endMs: 10_000 };
    const resolver = new IntermediaryResolver({ ...DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, ...input.config }, new ManualClock(5_000));
    for (const event of input.metadata ?? []) expect(resolver.applyMetadata(event)).toEqual([]);
    for (const s of input.snapshots) {
      const entries = s.entries.map((e) => flow(e.src, e.dst, e));
      expect(resolver.accept({ window, scope: s.scope, key: s.key, entries, ingestedAtMs: 0 })).toEqual([]);
    }
    const held = new AppliedContributions().apply(flushUntilSettled(resolver));
    expectEdgesClose(held.all().map(asExpected).sort(order), [...expected].sort(order));
  });
});
