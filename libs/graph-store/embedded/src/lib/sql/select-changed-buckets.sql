SELECT edge_id, bucket_start_ms FROM edge_buckets WHERE seq > @sinceSeq LIMIT @limit
