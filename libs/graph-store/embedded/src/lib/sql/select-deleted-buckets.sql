SELECT edge_id, bucket_start_ms FROM deleted_buckets WHERE seq > @sinceSeq LIMIT @limit
