import * as fs from 'fs';
import * as path from 'path';
import { readMetadataJsonLines } from './metadata-event';

describe('reading the metadata file (JSON lines)', () => {
  it('parses every valid line, skips blank lines, and rejects the rest naming the line', () => {
    const text = fs.readFileSync(path.join(__dirname, '../../testdata/metadata-mixed.jsonl'), 'utf8');
    const { events, rejections } = readMetadataJsonLines(text);
    expect(events).toEqual([
      { app: { app: 'checkout', owner: 'team-checkout', domain: 'commerce', tier: 'tier-0' } },
      { app: { app: 'edge', intermediaryType: 'api-gateway' } },
      { ipAssignment: { ip: '10.0.9.9', intermediaryId: 'nat-1', type: 'nat-gateway', name: 'egress', fromMs: 1_700_000_000_000 } },
      { externalRange: { cidr: '54.187.0.0/16', name: 'stripe' } },
      { listener: { intermediaryId: 'lb-1', port: 443, targetClusters: ['checkout-prod-v001'] } },
      { health: { nodeId: 'app:checkout', health: 'degraded', atMs: 1_700_000_000_000 } },
    ]);
    expect(rejections).toEqual([
      { reason: 'invalid-value', message: expect.stringMatching(/^line 5: health\.health must be one of/), raw: '{"health":{"nodeId":"cluster:checkout-prod-v001","health":"sick","atMs":1}}' },
      { reason: 'malformed', message: expect.stringMatching(/^line 8: not JSON/), raw: 'not json at all' },
    ]);
  });

  it('accepts Windows line endings and an empty file', () => {
    expect(readMetadataJsonLines('{"app":{"app":"a"}}\r\n{"app":{"app":"b"}}\r\n').events).toEqual([{ app: { app: 'a' } }, { app: { app: 'b' } }]);
    expect(readMetadataJsonLines('')).toEqual({ events: [], rejections: [] });
  });
});
