-- A bucket written again replaces the stored one: replays converge.
INSERT INTO edge_buckets (edge_id, bucket_start_ms, hop, first_seen_ms, last_seen_ms, seq, payload)
VALUES (@edgeId, @bucketStartMs, @hop, @firstSeenMs, @lastSeenMs, @seq, @payload)
ON CONFLICT (edge_id, bucket_start_ms) DO UPDATE SET
  hop           = excluded.hop,
  first_seen_ms = excluded.first_seen_ms,
  last_seen_ms  = excluded.last_seen_ms,
  seq           = excluded.seq,
  payload       = excluded.payload
