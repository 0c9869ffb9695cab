import { app, id } from './testing/fixtures';
import { ImpactedNode } from './queries';
import { teamsToNotify } from './topology-query-service';

function hit(name: string, distance: number, owner?: string): ImpactedNode {
  return { node: { ...app(name), distance, layers: ['network'] }, distance, ...(owner === undefined ? {} : { owner }) };
}

describe('teams to notify', () => {
  it('puts nodes with no owner last among teams equally near and equally hit', () => {
    const teams = teamsToNotify([hit('a', 1), hit('b', 1, 'zeta'), hit('c', 1, 'alpha')]);
    expect(teams.map((t) => t.owner)).toEqual(['alpha', 'zeta', '']);
  });

  it('keeps a team’s smallest distance and its nodes in impact order', () => {
    const teams = teamsToNotify([hit('a', 1, 'ops'), hit('b', 2), hit('c', 3, 'ops')]);
    expect(teams).toEqual([
      { owner: 'ops', nodeCount: 2, minDistance: 1, nodeIds: [id('a'), id('c')] },
      { owner: '', nodeCount: 1, minDistance: 2, nodeIds: [id('b')] },
    ]);
  });
});
