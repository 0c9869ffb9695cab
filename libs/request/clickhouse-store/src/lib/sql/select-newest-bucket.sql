SELECT max(bucket_start_ms) AS newest_ms, count() AS buckets
FROM request_edge_buckets
