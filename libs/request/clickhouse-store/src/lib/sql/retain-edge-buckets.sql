-- Applies a changed retention to an existing table, rewriting its parts (run only when the retention changed).
ALTER TABLE request_edge_buckets
    MODIFY TTL toDateTime(intDiv(bucket_start_ms, 1000)) + toIntervalSecond({retention_s:UInt32})
