import * as fs from 'fs';
import * as path from 'path';
import { DeadLetterCodec, deadLetterTopic, encodeFlowRecordBatch, Topics, type DeadLetterMsg, type FlowRecord } from '@topology/contracts';
import { ManualClock } from '@topology/model';
import { testConfig } from '../testing/run-all-in-one';
import { AllInOne } from './all-in-one';

jest.setTimeout(60_000);

const T0 = Date.UTC(2025, 2, 3, 9, 0, 0);

function record(app: string, localIp: string, remoteIp: string, role: 'client' | 'server', port: number): FlowRecord {
  const client = role === 'client';
  return {
    local: { ip: localIp, port: client ? 40_000 : port },
    remote: { ip: remoteIp, port: client ? port : 40_000 },
    localIdentity: { app, cluster: `${app}-prod-v001`, instance: `i-${app}`, region: 'us-east-1' },
    role,
    protocol: 'tcp',
    startMs: T0,
    endMs: T0 + 5_000,
    bytesSent: 1_000,
    bytesReceived: 5_000,
    packetsSent: 10,
    packetsReceived: 12,
    retransmits: 0,
    rttUs: 300,
    connections: 1,
  };
}

const hubbleSample = fs.readFileSync(path.join(__dirname, '../../../../../shared/realdata/hubble/basic-sample-10-flows.json'), 'utf8');

describe('HTTP intake of the all-in-one', () => {
  let app: AllInOne;
  let base: string;
  // Moved by hand past the hold-back, so flows to unattributable addresses are released without waiting.
  const clock = new ManualClock(Date.now());
  const deadLetters: DeadLetterMsg[] = [];

  beforeAll(async () => {
    app = await AllInOne.start(testConfig(), { clock, log: () => undefined });
    base = `http://${app.httpAddress}`;
    await app.bus.subscribe({
      topics: [Topics.flowsCanonical, Topics.flowsVpc, Topics.flowsHubble].map(deadLetterTopic),
      groupId: 'test-dead-letters',
      fromBeginning: true,
      handler: async (batch) => {
        for (const m of batch.messages) deadLetters.push(DeadLetterCodec.decode(m.value));
      },
    });
  });

  afterAll(async () => {
    await app?.stop();
  });

  const post = (pathname: string, contentType: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${base}${pathname}`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });

  it('maps flows posted as canonical JSON lines, protobuf and VPC text', async () => {
    const lines = [record('web', '10.0.0.1', '10.0.0.2', 'client', 8080), record('cart', '10.0.0.2', '10.0.0.1', 'server', 8080)].map((r) => JSON.stringify(r));
    expect((await post('/v1/flows', 'application/x-flow+jsonl', lines.join('\n'))).status).toBe(202);
    const proto = encodeFlowRecordBatch([record('cart', '10.0.0.2', '10.0.0.3', 'client', 5432), record('db', '10.0.0.3', '10.0.0.2', 'server', 5432)]);
    expect((await post('/v1/flows', 'application/x-flow+protobuf', proto)).status).toBe(202);
    // A VPC v2 record from the web host to a partner outside every known range.
    const vpc = `2 123456789010 eni-1 10.0.0.1 198.51.100.7 40001 443 6 10 4000 ${T0 / 1000} ${T0 / 1000 + 50} ACCEPT OK`;
    expect((await post('/v1/flows', 'text/x-vpc-flow-log', vpc)).status).toBe(202);
    await app.drain();
    clock.advance(app.config.holdBackMs + 1_000);
    await app.drain();
    const edges = await app.store.listEdges({ granularity: 'app', range: { fromMs: T0 - 60_000, toMs: T0 + 120_000 } });
    const keys = edges.map((e) => `${e.src} -> ${e.dst}`);
    expect(keys).toEqual(expect.arrayContaining(['app:web -> app:cart', 'app:cart -> app:db', 'app:web -> unknown:public-unmapped/198.51.100.7']));
  });

  it('dead-letters every malformed line of every format with its reason, and keeps the good ones', async () => {
    const before = deadLetters.length;
    const good = JSON.stringify(record('search', '10.0.1.1', '10.0.1.2', 'client', 9200));
    await post('/v1/flows', 'application/x-flow+jsonl', [good, '{"local": {"ip": "10.0.1.1"', JSON.stringify({ ...record('search', '10.0.1.1', '10.0.1.2', 'client', 9200), local: { ip: '999.1.1.1', port: 1 } })].join('\n'));
    await post('/v1/flows', 'application/x-flow+protobuf', Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01]));
    await post('/v1/flows', 'text/x-vpc-flow-log', '2 123456789010 eni-1 10.0.0.1 only-six-fields');
    await post('/v1/flows', 'application/x-hubble+jsonl', `${hubbleSample.split('\n')[0]}\n{"flow": 42}\nnot json`);
    await app.drain();
    const fresh = deadLetters.slice(before);
    const reasons = fresh.map((d) => `${d.sourceTopic} ${d.reason}`);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'flows.canonical.v1 malformed',
        'flows.canonical.v1 invalid-value',
        'flows.vpc.v1 malformed',
        'flows.hubble.v1 malformed',
      ]),
    );
    expect(fresh.filter((d) => d.sourceTopic === 'flows.canonical.v1').length).toBeGreaterThanOrEqual(3);
    for (const d of fresh) {
      expect(d.message.length).toBeGreaterThan(0);
      expect(d.payload.length).toBeGreaterThan(0);
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/topology_flow_ingestor_dead_lettered_total\{topic="flows.canonical.v1",reason="malformed"/);
    expect(metrics).toMatch(/topology_flow_parser_canonical_records_rejected_total\{reason="invalid-value"/);
  });

  it('refuses a content type it cannot read', async () => {
    const response = await post('/v1/flows', 'application/pdf', 'x');
    expect(response.status).toBe(415);
  });

  it('answers its probes', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});
