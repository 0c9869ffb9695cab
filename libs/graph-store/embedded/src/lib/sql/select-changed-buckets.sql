SELECT edge_id, bucket_start_ms FROM edge_buckets WHERE seq > @sinceSeq
UNION ALL
SELECT edge_id, bucket_start_ms FROM deleted_buckets WHERE seq > @sinceSeq
LIMIT @limit
