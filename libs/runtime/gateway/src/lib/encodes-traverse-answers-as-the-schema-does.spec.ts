import * as protoLoader from '@grpc/proto-loader';
import { edgeKey, nodeId, type ApplicationEdgeProps, type EdgeRecord, type NetworkEdgeProps, type NodeId, type RequestEdgeProps } from '@topology/model';
import type { TopologyNode, TraverseResponse } from '@topology/query';
import { traverseResponseMessage } from './api-mapping';
import { apiPackageDefinition, TOPOLOGY_SERVICE } from './api-proto';
import { TraverseResponseEncoder } from './traverse-response-encoder';

const traverse = (apiPackageDefinition()[TOPOLOGY_SERVICE] as protoLoader.ServiceDefinition)['Traverse'] as protoLoader.MethodDefinition<object, object>;

const WEB = nodeId('app', 'web');
const USERS = nodeId('app', 'users');
const AUTH = nodeId('app', 'auth');

const network = (bytes: number, via: NodeId[] = []): NetworkEdgeProps => ({
  bytesSent: bytes,
  bytesReceived: bytes * 3,
  packetsSent: 7,
  packetsReceived: 9.5,
  connections: 1.25,
  retransmits: 0,
  rttMeanUs: 450,
  ports: [{ port: 8443, protocol: 'tcp' }],
  paths: [{ via, bytes: bytes * 4, confidence: 0.75 }],
  confidence: 0.75,
  hop: false,
});
const application = (calls: number): ApplicationEdgeProps => ({
  calls,
  errors: 3,
  endpoints: [{ endpoint: 'GET /users/{id}', protocol: 'http', calls, errors: 3, errorsByStatus: { '5xx': 2, '4xx': 1 }, latencyP50Ms: 4, latencyP90Ms: 9, latencyP99Ms: 31, serverReportedOnly: true }],
});
const request = (calls: number): RequestEdgeProps => ({ calls, errors: 1, latencyP50Ms: 12.5, latencyP99Ms: 80, operations: ['GET /users/{id}', 'POST /login'] });

function node(id: NodeId, distance: number): TopologyNode {
  return { id, kind: 'app', granularity: 'app', displayName: id.slice(4), app: id.slice(4), health: 'degraded', firstSeenMs: 1_000, lastSeenMs: 2_000_000_000_000, distance, layers: ['network', 'request'] };
}

function edge(src: NodeId, dst: NodeId, props: EdgeRecord['props']): EdgeRecord {
  const layers = (['network', 'application', 'request'] as const).filter((l) => props[l] !== undefined);
  return { key: edgeKey(src, dst), src, dst, granularity: 'app', layers, props, firstSeenMs: 1_000, lastSeenMs: 2_000_000_000_000 };
}

function answer(edges: EdgeRecord[]): TraverseResponse {
  return {
    nodes: [node(WEB, 0), node(USERS, 1), node(AUTH, 1)],
    edges,
    layerStatus: [
      { layer: 'network', state: 'ok', message: '', latencyMs: 1.4 },
      { layer: 'request', state: 'timed-out', message: 'the request layer did not answer within 250 ms', latencyMs: 250 },
    ],
    nextPageToken: 'abc',
    truncated: true,
    truncatedReason: 'max-visited',
  };
}

/** What a client decodes from the bytes. */
const decoded = (bytes: Buffer) => traverse.responseDeserialize(bytes);

describe('Traverse answers encoded with reused property bytes', () => {
  const encoder = new TraverseResponseEncoder();
  const shared = { network: network(1_000, [nodeId('intermediary', 'lb-users')]), application: application(40), request: request(12) };

  it('decode to what proto-loader itself encodes, with every layer, none, and several', () => {
    const response = answer([
      edge(WEB, USERS, shared),
      edge(WEB, AUTH, { network: network(5) }),
      edge(USERS, AUTH, { request: request(2) }),
      edge(AUTH, WEB, {}),
    ]);
    const message = traverseResponseMessage(response);
    expect(decoded(encoder.encode(message))).toEqual(decoded(traverse.responseSerialize(message)));
    expect(decoded(encoder.encode(message))).toMatchObject({ nextPageToken: 'abc', truncated: true, edges: [{ network: { paths: [{ via: ['intermediary:lb-users'] }] } }, {}, {}, {}] });
  });

  it('reuses the bytes of property sets it has seen in later answers, and encodes a changed set anew', () => {
    const first = traverseResponseMessage(answer([edge(WEB, USERS, shared)]));
    const again = traverseResponseMessage(answer([edge(WEB, USERS, shared), edge(USERS, AUTH, { network: shared.network })]));
    expect(again.edges[0]?.network).toBe(first.edges[0]?.network);
    encoder.encode(first);
    expect(decoded(encoder.encode(again))).toEqual(decoded(traverse.responseSerialize(again)));

    const changed = traverseResponseMessage(answer([edge(WEB, USERS, { ...shared, network: network(2_000) })]));
    const got = decoded(encoder.encode(changed)) as { edges: { network: { bytesSent: number } }[] };
    expect(got.edges[0]?.network.bytesSent).toBe(2_000);
    expect(got).toEqual(decoded(traverse.responseSerialize(changed)));
  });

  it('encodes an empty answer', () => {
    const message = traverseResponseMessage({ nodes: [], edges: [], layerStatus: [], nextPageToken: '', truncated: false });
    expect(decoded(encoder.encode(message))).toEqual(decoded(traverse.responseSerialize(message)));
  });
});
