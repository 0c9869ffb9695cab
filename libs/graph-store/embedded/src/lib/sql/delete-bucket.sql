DELETE FROM edge_buckets WHERE edge_id = @edgeId AND bucket_start_ms = @bucketStartMs
