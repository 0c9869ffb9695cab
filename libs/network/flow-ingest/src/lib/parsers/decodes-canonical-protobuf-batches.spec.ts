import type { FlowRecord } from '@topology/contracts';
import { encodeFlowRecordBatch } from '@topology/contracts';
import { CanonicalFlowJsonParser, CanonicalFlowProtobufParser } from './canonical-flow-parser';

const clientRecord: FlowRecord = {
  local: { ip: '10.0.1.5', port: 43512 },
  remote: { ip: '10.0.2.9', port: 8080 },
  localIdentity: { app: 'checkout', cluster: 'checkout-prod-v012', region: 'us-east-1' },
  role: 'client',
  protocol: 'tcp',
  startMs: 1700000000000,
  endMs: 1700000010000,
  bytesSent: 1200,
  bytesReceived: 64000,
  packetsSent: 12,
  packetsReceived: 50,
  retransmits: 1,
  rttUs: 0,
  connections: 1,
};
const serverRecord: FlowRecord = {
  ...clientRecord,
  local: { ip: '10.0.2.9', port: 8080 },
  remote: { ip: '10.0.1.5', port: 43512 },
  localIdentity: { app: 'cart', cluster: 'cart-prod-v003' },
  role: 'server',
  bytesSent: 64000,
  bytesReceived: 1200,
  packetsSent: 50,
  packetsReceived: 12,
};

describe('protobuf FlowRecordBatch payloads', () => {
  it('give the same flows as the same records in JSON lines', () => {
    const fromProtobuf = new CanonicalFlowProtobufParser({ region: 'eu-west-1' }).parse(encodeFlowRecordBatch([clientRecord, serverRecord]));
    const fromJson = new CanonicalFlowJsonParser({ region: 'eu-west-1' }).parse([clientRecord, serverRecord].map((r) => JSON.stringify(r)).join('\n'));
    expect(fromProtobuf.rejections).toEqual([]);
    expect(fromJson.rejections).toEqual([]);
    expect(fromProtobuf.flows).toStrictEqual(fromJson.flows);
  });

  it('see one connection the same way from both of its ends', () => {
    const { flows } = new CanonicalFlowProtobufParser().parse(encodeFlowRecordBatch([clientRecord, serverRecord]));
    const [fromClient, fromServer] = flows;
    for (const flow of [fromClient, fromServer]) {
      expect(flow?.client.ip).toBe('10.0.1.5');
      expect(flow?.server.ip).toBe('10.0.2.9');
      expect([flow?.bytesSent, flow?.bytesReceived, flow?.packetsSent, flow?.packetsReceived]).toEqual([1200, 64000, 12, 50]);
    }
    expect(fromClient?.client.identity?.app).toBe('checkout');
    expect(fromServer?.server.identity?.app).toBe('cart');
    expect([fromClient?.observer, fromServer?.observer]).toEqual(['client', 'server']);
  });

  it('reject a text payload', () => {
    const result = new CanonicalFlowProtobufParser().parse('{"local":{}}');
    expect(result.rejections).toEqual([{ reason: 'malformed', message: 'a FlowRecordBatch payload must be bytes, got text', raw: '{"local":{}}' }]);
  });
});
