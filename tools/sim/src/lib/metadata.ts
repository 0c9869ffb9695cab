import type { MetadataEvent } from '@topology/contracts';
import { nodeId } from '@topology/model';
import type { Fleet } from './fleet';
import { Random } from './random';

/** Intermediary addresses are assigned well before the run and stay assigned past its end. */
const ASSIGNED_BEFORE_START_MS = 7 * 86_400_000;

/**
 * Everything the metadata source knows about the fleet, in the order a fresh subscriber would read
 * it: external ranges, intermediary addresses, listeners, app metadata, then current health.
 * Listeners are announced only for balancers with two of them: a one-listener balancer needs no
 * narrowing, and real inventories are incomplete in exactly that way.
 */
export function fleetMetadata(fleet: Fleet): MetadataEvent[] {
  const random = new Random(fleet.config.seed).fork('metadata');
  const events: MetadataEvent[] = [];
  const fromMs = fleet.startMs - ASSIGNED_BEFORE_START_MS;
  for (const e of fleet.externals) events.push({ externalRange: { cidr: e.cidr, name: e.name } });
  for (const nat of fleet.natGateways) {
    events.push({ ipAssignment: { ip: nat.ip, intermediaryId: nat.id, type: 'nat-gateway', name: nat.name, region: nat.region, fromMs } });
  }
  for (const lb of fleet.loadBalancers) {
    for (const ip of lb.ips) {
      events.push({ ipAssignment: { ip, intermediaryId: lb.id, type: 'load-balancer', name: lb.name, region: lb.region, fromMs } });
    }
  }
  for (const lb of fleet.loadBalancers) {
    if (!lb.listenersAnnounced) continue;
    for (const l of lb.listeners) {
      events.push({ listener: { intermediaryId: lb.id, port: l.port, targetClusters: l.targets.map((c) => c.name) } });
    }
  }
  for (const app of fleet.apps) {
    events.push({
      app: {
        app: app.name,
        owner: app.owner,
        domain: app.domain,
        tier: app.tier,
        ...(app.layer === 'gateway' ? { intermediaryType: 'api-gateway' as const } : {}),
      },
    });
  }
  for (const app of fleet.apps) {
    const roll = random.next();
    const health = roll < 0.01 ? 'unhealthy' : roll < 0.04 ? 'degraded' : 'healthy';
    events.push({ health: { nodeId: nodeId('app', app.name), health, atMs: fleet.startMs } });
  }
  return events;
}
