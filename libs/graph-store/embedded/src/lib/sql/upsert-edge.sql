INSERT INTO edges (src, dst, granularity, first_bucket_ms, last_bucket_ms, last_resolved_bucket_ms, seq)
VALUES (@src, @dst, @granularity, @bucketStartMs, @bucketStartMs, @resolvedBucketMs, @seq)
ON CONFLICT (src, dst, granularity) DO UPDATE SET
  first_bucket_ms         = min(first_bucket_ms, excluded.first_bucket_ms),
  last_bucket_ms          = max(last_bucket_ms, excluded.last_bucket_ms),
  last_resolved_bucket_ms = max(
    coalesce(last_resolved_bucket_ms, excluded.last_resolved_bucket_ms),
    coalesce(excluded.last_resolved_bucket_ms, last_resolved_bucket_ms)
  ),
  seq                     = excluded.seq
RETURNING id
