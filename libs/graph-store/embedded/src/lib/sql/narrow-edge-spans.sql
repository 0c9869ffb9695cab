UPDATE edges
SET first_bucket_ms = (SELECT min(b.bucket_start_ms) FROM edge_buckets AS b WHERE b.edge_id = edges.id)
WHERE first_bucket_ms <= @lastDeletableStartMs
