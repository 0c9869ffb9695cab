DELETE FROM edge_buckets WHERE bucket_start_ms <= @lastDeletableStartMs
