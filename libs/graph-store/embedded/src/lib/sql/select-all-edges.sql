SELECT id, src, dst, granularity, first_bucket_ms, last_bucket_ms, last_resolved_bucket_ms FROM edges
