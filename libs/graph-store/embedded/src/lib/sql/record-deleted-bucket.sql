INSERT INTO deleted_buckets (edge_id, bucket_start_ms, seq) VALUES (@edgeId, @bucketStartMs, @seq)
