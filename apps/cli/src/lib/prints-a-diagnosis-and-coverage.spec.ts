import type { CoverageResponseMessage, DiagnoseResponseMessage, NodeMessage } from '@topology/runtime-gateway';
import { formatCoverage, formatDiagnosis } from './format';

function node(id: string, more: Partial<NodeMessage> = {}): NodeMessage {
  return {
    id,
    kind: 'app',
    granularity: 'app',
    displayName: id.slice(4),
    app: id.slice(4),
    cluster: '',
    region: '',
    tier: '',
    domain: '',
    owner: '',
    account: '',
    health: 'unknown',
    firstSeenMs: 0,
    lastSeenMs: 0,
    intermediaryType: '',
    unknownReason: '',
    address: '',
    distance: 0,
    layers: ['LAYER_NETWORK'],
    ...more,
  };
}

describe('the CLI output', () => {
  it('prints the verdict, then each suspect with its path and evidence', () => {
    const diagnosis: DiagnoseResponseMessage = {
      node: node('app:web'),
      verdict: 'VERDICT_DEPENDENCY',
      likelyCulprit: 'app:stock',
      explanation: 'app:stock is the likeliest cause: errors 40% of 1.0k calls served (application layer).',
      suspects: [
        {
          node: node('app:stock', { health: 'unhealthy' }),
          distance: 2,
          path: ['app:web', 'app:api', 'app:stock'],
          dependence: 0.98,
          score: 0.2745,
          errorRate: 0.4,
          latencyP99Ms: 950,
          health: 'unhealthy',
          evidenceLayers: ['LAYER_APPLICATION'],
          evidence: ['errors 40% of 1.0k calls served (application layer)', 'GET /v1/stock: errors 40% of 1.0k calls (503 400) (application layer)'],
        },
      ],
      ownErrorRate: 0,
      truncated: false,
      layerStatus: [
        { layer: 'LAYER_NETWORK', state: 'STATE_OK', message: '', latencyMs: 1 },
        { layer: 'LAYER_REQUEST', state: 'STATE_FAILED', message: 'the request layer is not served by this gateway', latencyMs: 0 },
      ],
    };
    expect(formatDiagnosis(diagnosis).split('\n')).toEqual([
      '! request layer failed: the request layer is not served by this gateway',
      'app:web  LIKELY A DEPENDENCY: app:stock',
      '  app:stock is the likeliest cause: errors 40% of 1.0k calls served (application layer).',
      'suspects (likeliest first):',
      '   1. app:stock                                score 0.275  2 hop(s), dependence 98%, unhealthy  [application]',
      '      path app:web → app:api → app:stock',
      '      - errors 40% of 1.0k calls served (application layer)',
      '      - GET /v1/stock: errors 40% of 1.0k calls (503 400) (application layer)',
    ]);
  });

  it('prints coverage as a summary and the two lists', () => {
    const coverage: CoverageResponseMessage = {
      networkOnly: [node('app:legacy', { owner: 'team-legacy' }), node('app:stock', { layers: ['LAYER_NETWORK', 'LAYER_APPLICATION'] })],
      applicationOnly: [node('app:payments-psp', { layers: ['LAYER_APPLICATION'] })],
      networkOnlyCount: 2,
      applicationOnlyCount: 1,
      bothCount: 6,
      layerStatus: [],
      nextPageToken: 'abc',
    };
    expect(formatCoverage(coverage).split('\n')).toEqual([
      '6 of 8 services seen on the network report application metrics (75%), 2 do not; 1 service appears only in application metrics',
      'not instrumented (network only):',
      '  app:legacy                                      owner team-legacy',
      '  app:stock                                         (named by its peers’ metrics only)',
      'never seen on the network (application only):',
      '  app:payments-psp',
      'more: --page-token abc',
    ]);
  });
});
