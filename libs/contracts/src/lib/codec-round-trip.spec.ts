import { EdgeContributionCodec, FlowPartialSnapshotCodec, IpOwnershipCodec, decodeFlowRecordBatch, encodeFlowRecordBatch, decodeMetadataEvent, encodeMetadataEvent } from './codec';
import type { EdgeContribution, FlowPartialSnapshot } from './messages';

describe('pipeline message codec', () => {
  it('round-trips a partial snapshot with every kind of peer', () => {
    const snapshot: FlowPartialSnapshot = {
      window: { startMs: 1_700_000_000_000, endMs: 1_700_000_010_000 },
      scope: 'us-east-1/flows.canonical.v1/3',
      key: 'lb-1',
      ingestedAtMs: 1_700_000_011_000,
      entries: [
        {
          src: { kind: 'workload', app: 'api', cluster: 'api-prod-v001', region: 'us-east-1', account: '111' },
          dst: { kind: 'intermediary', id: 'lb-1', type: 'load-balancer', name: 'api-lb' },
          dstPort: 443, protocol: 'tcp', observer: 'client',
          bytesSent: 1.5, bytesReceived: 2, packetsSent: 3, packetsReceived: 4, connections: 0.25, retransmits: 0,
          rttSumUs: 100, rttSamples: 1, firstSeenMs: 1_700_000_000_001, lastSeenMs: 1_700_000_000_002, via: ['nat-1'], confidence: 0.5,
        },
        {
          src: { kind: 'unknown', reason: 'no-owner-at-time', ip: '10.0.0.9' },
          dst: { kind: 'external', name: 'stripe', cidr: '54.0.0.0/8' },
          dstPort: 443, protocol: 'tcp', observer: 'server',
          bytesSent: 0, bytesReceived: 0, packetsSent: 0, packetsReceived: 0, connections: 1, retransmits: 0,
          rttSumUs: 0, rttSamples: 0, firstSeenMs: 1, lastSeenMs: 2, via: [], confidence: 1,
        },
      ],
    };
    expect(FlowPartialSnapshotCodec.decode(FlowPartialSnapshotCodec.encode(snapshot))).toEqual(snapshot);
  });

  it('round-trips an edge contribution and an ownership range', () => {
    const c: EdgeContribution = {
      window: { startMs: 0, endMs: 10_000 }, scope: 'via:lb-1',
      src: { kind: 'workload', app: 'a', cluster: 'a-prod-v001' }, dst: { kind: 'workload', app: 'b', cluster: 'b-prod-v001' },
      hop: false, via: ['lb-1'], confidence: 0.75, ports: [{ port: 8080, protocol: 'tcp' }],
      bytesSent: 10, bytesReceived: 20, packetsSent: 1, packetsReceived: 2, connections: 1, retransmits: 0, rttSumUs: 0, rttSamples: 0,
      firstSeenMs: 5, lastSeenMs: 6, removed: false, ingestedAtMs: 7,
    };
    expect(EdgeContributionCodec.decode(EdgeContributionCodec.encode(c))).toEqual(c);
    const o = { ip: '10.1.2.3', app: 'a', cluster: 'a-prod-v001', region: 'eu-west-1', fromMs: 1, toMs: 2 };
    expect(IpOwnershipCodec.decode(IpOwnershipCodec.encode(o))).toEqual(o);
  });

  it('encodes flow batches and metadata events in their protobuf form', () => {
    const bytes = encodeFlowRecordBatch([{
      local: { ip: '10.0.0.1', port: 40000 }, remote: { ip: '10.0.0.2', port: 80 },
      localIdentity: { app: 'a', cluster: 'a-prod-v001' }, role: 'client', protocol: 'tcp', startMs: 1, endMs: 2,
      bytesSent: 3, bytesReceived: 4, packetsSent: 1, packetsReceived: 1, retransmits: 0, rttUs: 0, connections: 1,
    }]);
    const [record] = decodeFlowRecordBatch(bytes);
    expect(record).toMatchObject({ role: 'ROLE_CLIENT', local: { ip: '10.0.0.1', port: 40000 }, bytesSent: 3 });
    const ev = decodeMetadataEvent(encodeMetadataEvent({ ipAssignment: { ip: '10.9.0.1', intermediaryId: 'lb-1', type: 'load-balancer', fromMs: 5 } }));
    expect(ev).toEqual({ ipAssignment: { ip: '10.9.0.1', intermediaryId: 'lb-1', type: 'INTERMEDIARY_TYPE_LOAD_BALANCER', fromMs: 5 } });
  });
});
