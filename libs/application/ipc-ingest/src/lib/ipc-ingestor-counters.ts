import { CounterSet } from '@topology/model';

export const IPC_INGESTOR_COUNTERS = {
  data_points_accepted: 'Data points (OTLP histogram points, Spectator measurements, Prometheus samples) whose calls or latencies were added to a bucket, by format',
  data_points_rejected: 'Data points refused, by dead-letter reason; each message dead-letters once per distinct problem',
  data_points_ignored: 'Data points of metrics that do not describe calls (other names, statistics or reporters), by format',
  calls_without_named_peer:
    'Data points whose peer is an address literal or not given: they count towards the reporter\'s health but make no edge',
  exponential_histograms_without_latency: 'Exponential histogram points: their calls count, their latencies are not kept',
  series_primed: 'First points of cumulative series that only set the baseline for the next point (initialCumulative)',
  series_resets: 'Cumulative series that restarted (new start time, or a count that went down)',
  points_replayed: 'Cumulative points not newer than the series\' last point (a redelivered message): ignored',
  series_expired: 'Cumulative series forgotten once the latest call time passed their latest point by seriesTtlMs',
  replayed_points_of_closed_buckets:
    'Data points read again after a restart (from a checkpoint) for buckets closed and written whole before it: skipped, not rejected',
  server_views_set_aside:
    'Edge buckets where a client view counted and the server\'s view of the same calls was set aside',
  server_only_edge_buckets: 'Edge buckets counted from the server\'s view alone (calls from uninstrumented clients)',
  buckets_written: 'Edge buckets whose payload changed and were emitted',
  buckets_withdrawn: 'Edge buckets emitted earlier that no view supports any more (a peer renamed by metadata)',
  buckets_closed: 'Buckets dropped from memory once the latest call time passed their end by allowedLatenessMs',
  nodes_written: 'App node upserts emitted because a node was new or its health or context changed',
  metadata_applied: 'Metadata events applied, by kind',
} as const;

export type IpcIngestorCounter = keyof typeof IPC_INGESTOR_COUNTERS;

export function newIpcIngestorCounters(): CounterSet<IpcIngestorCounter> {
  return new CounterSet<IpcIngestorCounter>(IPC_INGESTOR_COUNTERS);
}
