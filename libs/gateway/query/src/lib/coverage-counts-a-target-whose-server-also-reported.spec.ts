import type { EdgeRecord } from '@topology/model';
import { appEdge, id, netEdge } from './testing/fixtures';
import { splitCoverage } from './coverage';

/** An application edge whose counted view is the client's, with the target's own report set aside or unnamed. */
function alsoReportedByServer(edge: EdgeRecord): EdgeRecord {
  const application = edge.props.application;
  if (application === undefined) throw new Error('not an application edge');
  return { ...edge, props: { application: { ...application, serverReported: true } } };
}

describe('coverage of a service every caller of which is instrumented', () => {
  const network = [netEdge(id('web'), id('api')), netEdge(id('api'), id('db'))];

  it('counts it as instrumented when its edges say its server reported the calls too, whether or not it named the callers', () => {
    const split = splitCoverage(network, [appEdge(id('web'), id('api')), alsoReportedByServer(appEdge(id('api'), id('db')))], 'app');
    expect({ networkOnly: split.networkOnly, bothCount: split.bothCount }).toEqual({ networkOnly: [], bothCount: 3 });
  });

  it('lists it as not instrumented when only its callers describe it', () => {
    const split = splitCoverage(network, [appEdge(id('web'), id('api')), appEdge(id('api'), id('db'))], 'app');
    expect({ networkOnly: split.networkOnly, bothCount: split.bothCount, layers: split.layersOf.get(id('db')) }).toEqual({ networkOnly: [id('db')], bothCount: 2, layers: ['network', 'application'] });
  });
});
