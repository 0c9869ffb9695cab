-- Every edge of one granularity folded over the buckets that start in [from_ms, to_ms): the latest
-- row of each (edge, bucket, scope), summed.
SELECT
    src,
    dst,
    sum(calls) AS calls,
    sum(errors) AS errors,
    sumForEach(latency_counts) AS latency_counts,
    sum(latency_sum_us) AS latency_sum_us,
    sumMap(operations) AS operations,
    min(first_seen_ms) AS first_seen_ms,
    max(last_seen_ms) AS last_seen_ms
FROM request_edge_buckets FINAL
WHERE granularity = {granularity:String}
  AND bucket_start_ms >= {from_ms:UInt64}
  AND bucket_start_ms < {to_ms:UInt64}
GROUP BY src, dst
