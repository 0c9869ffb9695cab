-- Rows written since a moment (each at every version it was written with; the reader keeps the
-- highest), for buckets that start at or after a time: the reader's in-memory window.
SELECT
    granularity, src, dst, bucket_start_ms, scope, version, calls, errors, latency_counts,
    latency_sum_us, operations, first_seen_ms, last_seen_ms,
    toUnixTimestamp64Milli(written_at) AS written_ms
FROM request_edge_buckets
WHERE written_at >= fromUnixTimestamp64Milli({since_ms:Int64})
  AND bucket_start_ms >= {from_ms:UInt64}
