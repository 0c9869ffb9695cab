import { CounterSet } from '@topology/model';

export const FLOW_INGEST_COUNTER_DESCRIPTIONS = {
  flows_in: 'Flows handed to ingest.',
  flows_invalid: 'Flows rejected before attribution, by reason (invalid-time, invalid-value).',
  flows_too_late: 'Flows whose window had already closed (beyond the allowed lateness), rejected too-late.',
  flows_replayed_skipped: 'Flows read again after a restart whose window was complete downstream before it; not aggregated again.',
  ends_attributed:
    'Flow ends attributed, by the rule that decided: identity, intermediary, ownership, ownership-grace (after hold-back, within the grace), external, unknown, shared-address (several workloads claimed the address at the time: Unknown shared-address).',
  ends_unknown: 'Flow ends attributed to an Unknown peer, by reason: after hold-back expiry or push-out, or at once for missing-address.',
  flows_held: 'Flows held back because an end had no owner known at the flow start.',
  flows_released: 'Held flows released because an owner, IP assignment or external range covering them became known.',
  flows_expired: 'Held flows that waited holdBackMs and were attributed with what was known then.',
  flows_pushed_out: 'Held flows attributed before their time because maxHeldFlows was reached (oldest first).',
  via_unresolved: 'Flows whose via address matched no intermediary; aggregated without via.',
  windows_closed: 'Windows whose state was dropped because the scope watermark passed their end plus the allowed lateness.',
  snapshots_emitted: 'FlowPartialSnapshots emitted, one per changed (window, scope, key) per flush.',
  ownership_ranges_created: 'Ownership ranges started: an address seen with an owner it did not have at that time.',
  ownership_ranges_received: 'IpOwnership ranges applied from other instances.',
  ownership_ranges_published: 'IpOwnership ranges handed out to publish (new, or extended since last published).',
  ownership_ranges_expired: 'Ownership ranges forgotten, by reason: retention, or bound (maxOwnershipRangesPerIp).',
  ip_assignments_expired: 'IP assignments forgotten because they ended longer than the retention ago.',
  metadata_rejected: 'Metadata events or ownership ranges that could not be used, by reason.',
  peers_pruned: 'Interned peers dropped because no open window and no ownership range used them.',
} as const;

export type FlowIngestCounter = keyof typeof FLOW_INGEST_COUNTER_DESCRIPTIONS;

export function flowIngestCounters(): CounterSet<FlowIngestCounter> {
  return new CounterSet<FlowIngestCounter>(FLOW_INGEST_COUNTER_DESCRIPTIONS);
}
