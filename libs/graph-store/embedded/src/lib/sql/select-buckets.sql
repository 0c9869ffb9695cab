SELECT bucket_start_ms, hop, first_seen_ms, last_seen_ms, payload
FROM edge_buckets
WHERE edge_id = @edgeId AND bucket_start_ms >= @fromMs AND bucket_start_ms < @toMs
ORDER BY bucket_start_ms
