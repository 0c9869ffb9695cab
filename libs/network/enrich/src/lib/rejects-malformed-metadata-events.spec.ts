import { decodeMetadataEvent, encodeMetadataEvent } from '@topology/contracts';
import type { MetadataEvent } from '@topology/contracts';
import { isRejection, parseMetadataEvent } from './metadata-event';

const assignment = { ip: '10.0.9.9', intermediaryId: 'lb-1', type: 'load-balancer', fromMs: 1000 };

describe('validating metadata events', () => {
  it.each<[string, unknown, string, RegExp]>([
    ['not an object', 'app', 'malformed', /JSON object/],
    ['an array', [{ app: { app: 'a' } }], 'malformed', /JSON object/],
    ['no event set', {}, 'missing-field', /no event/],
    ['an unknown kind', { service: { name: 'a' } }, 'invalid-value', /not a metadata event kind: service/],
    ['two events set', { app: { app: 'a' }, health: { nodeId: 'app:a', health: 'healthy' } }, 'invalid-value', /exactly one/],
    ['an event that is not an object', { app: 'a' }, 'malformed', /app must be an object/],
    ['an assignment without ip', { ipAssignment: { ...assignment, ip: '' } }, 'missing-field', /ipAssignment\.ip is required/],
    ['an assignment with a bad ip', { ipAssignment: { ...assignment, ip: '10.0.0.300' } }, 'invalid-value', /not an IP address/],
    ['an assignment without intermediary', { ipAssignment: { ...assignment, intermediaryId: undefined } }, 'missing-field', /intermediaryId is required/],
    ['an assignment with an unspecified type', { ipAssignment: { ...assignment, type: 'INTERMEDIARY_TYPE_UNSPECIFIED' } }, 'missing-field', /type is required/],
    ['an assignment with an unknown type', { ipAssignment: { ...assignment, type: 'firewall' } }, 'invalid-value', /not an intermediary type/],
    ['an assignment ending before it starts', { ipAssignment: { ...assignment, toMs: 500 } }, 'invalid-time', /ends .* before it starts/],
    ['an assignment with a negative start', { ipAssignment: { ...assignment, fromMs: -1 } }, 'invalid-time', /negative/],
    ['an assignment with a fractional time', { ipAssignment: { ...assignment, fromMs: 1.5 } }, 'invalid-value', /whole number/],
    ['an assignment with a non-numeric time', { ipAssignment: { ...assignment, fromMs: 'yesterday' } }, 'invalid-value', /whole number/],
    ['an app name with whitespace', { app: { app: 'my app' } }, 'invalid-value', /whitespace/],
    ['an app without name', { app: { owner: 'x' } }, 'missing-field', /app\.app is required/],
    ['an owner that is not text', { app: { app: 'a', owner: 7 } }, 'invalid-value', /owner must be a string/],
    ['an app with an unknown intermediary type', { app: { app: 'a', intermediaryType: 9 } }, 'invalid-value', /not an intermediary type/],
    ['a health value outside the states', { health: { nodeId: 'app:a', health: 'sick', atMs: 1 } }, 'invalid-value', /must be one of healthy, degraded, unhealthy, unknown/],
    ['a health event without health', { health: { nodeId: 'app:a', atMs: 1 } }, 'missing-field', /health\.health is required/],
    ['a health event for something that is not a node id', { health: { nodeId: 'service:a', health: 'healthy' } }, 'invalid-value', /not a node id/],
    ['a health event without node', { health: { health: 'healthy' } }, 'missing-field', /nodeId is required/],
    ['a listener without port', { listener: { intermediaryId: 'lb-1', targetClusters: [] } }, 'missing-field', /port is required/],
    ['a listener with a port out of range', { listener: { intermediaryId: 'lb-1', port: 70_000 } }, 'invalid-value', /out of range/],
    ['a listener with a bad target', { listener: { intermediaryId: 'lb-1', port: 443, targetClusters: ['a', ''] } }, 'invalid-value', /not a cluster name/],
    ['a listener whose targets are not a list', { listener: { intermediaryId: 'lb-1', port: 443, targetClusters: 'a' } }, 'invalid-value', /list of cluster names/],
    ['an external range with a bad cidr', { externalRange: { cidr: '54.0.0.0/33', name: 'stripe' } }, 'invalid-value', /not a CIDR/],
    ['an external range without prefix', { externalRange: { cidr: '54.0.0.0', name: 'stripe' } }, 'invalid-value', /not a CIDR/],
    ['an external range without name', { externalRange: { cidr: '54.0.0.0/8' } }, 'missing-field', /name is required/],
  ])('rejects %s', (_, plain, reason, message) => {
    const result = parseMetadataEvent(plain);
    expect(isRejection(result)).toBe(true);
    expect(result).toMatchObject({ reason, message: expect.stringMatching(message) });
    if (isRejection(result)) expect(typeof result.raw).toBe('string');
  });

  it('accepts proto field names, enum names and numbers, and int64 as text', () => {
    expect(parseMetadataEvent({ ip_assignment: { ip: 'fd00::1', intermediary_id: 'nat-1', type: 2, from_ms: '1700000000000', to_ms: '0' } })).toEqual({
      ipAssignment: { ip: 'fd00::1', intermediaryId: 'nat-1', type: 'nat-gateway', fromMs: 1_700_000_000_000 },
    });
    expect(parseMetadataEvent({ app: { app: 'edge', intermediary_type: 'INTERMEDIARY_TYPE_PROXY', owner: '' } })).toEqual({ app: { app: 'edge', intermediaryType: 'proxy' } });
    expect(parseMetadataEvent({ app: { app: 'edge', intermediaryType: 0, tier: null } })).toEqual({ app: { app: 'edge' } });
    expect(parseMetadataEvent({ external_range: { cidr: '2600:1f00::/24', name: 'aws' } })).toEqual({ externalRange: { cidr: '2600:1f00::/24', name: 'aws' } });
    expect(parseMetadataEvent({ listener: { intermediaryId: 'lb-1', port: '8443' } })).toEqual({ listener: { intermediaryId: 'lb-1', port: 8443, targetClusters: [] } });
    expect(parseMetadataEvent({ health: { node_id: 'unknown:private-unmapped/10.0.0.1', health: 'unknown' } })).toEqual({
      health: { nodeId: 'unknown:private-unmapped/10.0.0.1', health: 'unknown', atMs: 0 },
    });
  });

  it('reads back every kind of event from its protobuf form', () => {
    const events: MetadataEvent[] = [
      { ipAssignment: { ip: '10.9.0.1', intermediaryId: 'lb-1', type: 'load-balancer', name: 'orders', region: 'us-east-1', fromMs: 5, toMs: 99 } },
      { listener: { intermediaryId: 'lb-1', port: 443, targetClusters: ['orders-prod-v001', 'orders-prod-v002'] } },
      { app: { app: 'orders', owner: 'team-orders', domain: 'commerce', tier: 'tier-1', intermediaryType: 'api-gateway' } },
      { health: { nodeId: 'cluster:orders-prod-v001', health: 'degraded', atMs: 1_700_000_000_000 } },
      { externalRange: { cidr: '54.187.0.0/16', name: 'stripe' } },
    ];
    for (const e of events) expect(parseMetadataEvent(decodeMetadataEvent(encodeMetadataEvent(e)))).toEqual(e);
  });
});
